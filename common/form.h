/* form: collects the POST /frames multipart fields while the body streams in,
 * enforcing size limits as it reads (API §3). */
#ifndef SW_FORM_H
#define SW_FORM_H

#include <stddef.h>

#include "upload.h"

#define FORM_MAX_FIELD_BYTES (1u << 20) /* every field but the file */

typedef struct form form;

/* NULL if content_type is not multipart/form-data with a boundary; then
 * *status is 415. */
form *form_new(const char *content_type, size_t max_file_bytes, int *status);
void form_free(form *f);
/* -1 once the body is refused: form_status() says 400 or 413, form_error() why. */
int form_feed(form *f, const char *data, size_t n);
/* Call when the body ended; -1 if it was cut short (400). */
int form_finish(form *f);
int form_status(const form *f);
const char *form_error(const form *f);
/* The collected fields as an upload (valid until form_free). */
void form_upload(const form *f, upload *u);

#endif
