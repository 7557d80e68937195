/* cidr: address allow-lists such as METRICS_ALLOW ("127.0.0.0/8, ::1"). */
#ifndef SW_CIDR_H
#define SW_CIDR_H

#include <stdbool.h>
#include <stddef.h>

/* Whether every entry of list (comma-separated "ADDR" or "ADDR/BITS", IPv4 or
 * IPv6, blanks around entries ignored; empty allows nobody) is well formed.
 * -1 with why naming the first bad entry. */
int cidr_list_check(const char *list, char *why, size_t whylen);
/* Whether addr (text, as REMOTE_ADDR gives it) lies in one of list's
 * networks. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) match IPv4 entries.
 * A malformed entry or address matches nothing. */
bool cidr_list_match(const char *list, const char *addr);

#endif
