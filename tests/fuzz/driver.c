/* driver: runs a fuzz target over the files named on the command line, for builds without libFuzzer. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads a whole file into a buffer of exactly its size, so ASan sees any read past the input
 * (as under libFuzzer); never NULL for an empty file, as libFuzzer's is not. NULL on error. */
static uint8_t *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    uint8_t *data = malloc(cap);
    size_t k;
    while ((k = fread(data + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap)
            data = realloc(data, cap *= 2);
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(data);
        return NULL;
    }
    uint8_t *exact = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++)
        exact[i] = data[i];
    free(data);
    *size = n;
    return exact;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        size_t size = 0;
        uint8_t *data = slurp(argv[i], &size);
        if (!data) {
            perror(argv[i]);
            return 2;
        }
        LLVMFuzzerTestOneInput(data, size);
        free(data);
    }
    return 0;
}
