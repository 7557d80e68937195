/* mkimg: writes a structurally valid JPEG or PNG of about SIZE bytes with
 * random content, for upload tests (the /ws/frames framer walks real image
 * structure: JPEG segments to EOI, PNG chunks to IEND).
 *   mkimg jpeg|png SIZE SEED > file */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long long rng;

static unsigned char next_byte(void)
{
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned char)(rng >> 33);
}

static void put_be(unsigned long v, int bytes)
{
    while (bytes--)
        putchar((int)((v >> (8 * bytes)) & 0xff));
}

/* SOI, APP0, a DQT segment whose payload holds FF D9 (not a marker there),
 * SOS, entropy data with FF stuffed as FF 00 and restart markers, EOI. */
static void jpeg(long size)
{
    static const unsigned char app0[] = { 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0 };
    fwrite("\xFF\xD8", 1, 2, stdout);
    fwrite(app0, 1, sizeof app0, stdout);
    fwrite("\xFF\xDB\x00\x06\x00\xFF\xD9\x01", 1, 8, stdout);
    fwrite("\xFF\xDA\x00\x08\x01\x01\x00\x00\x3F\x00", 1, 10, stdout);
    for (long i = 0; i < size; i++) {
        unsigned char b = next_byte();
        putchar(b);
        if (b == 0xFF)
            putchar(0x00);
        if (i % 4096 == 4095)
            put_be(0xFFD0 + (unsigned long)((i / 4096) % 8), 2);
    }
    fwrite("\xFF\xD9", 1, 2, stdout);
}

static void chunk(const char *type, long len, int random)
{
    put_be((unsigned long)len, 4);
    fwrite(type, 1, 4, stdout);
    for (long i = 0; i < len; i++)
        putchar(random ? next_byte() : 0);
    put_be(0, 4); /* CRC: not checked by the framer */
}

static void png(long size)
{
    fwrite("\x89PNG\r\n\x1a\n", 1, 8, stdout);
    chunk("IHDR", 13, 0);
    for (long left = size; left > 0; left -= 65536)
        chunk("IDAT", left < 65536 ? left : 65536, 1);
    chunk("IEND", 0, 0);
}

int main(int argc, char **argv)
{
    if (argc != 4 || (strcmp(argv[1], "jpeg") && strcmp(argv[1], "png"))) {
        fprintf(stderr, "usage: mkimg jpeg|png SIZE SEED\n");
        return 2;
    }
    rng = strtoull(argv[3], NULL, 10) * 2654435761ULL + 1;
    if (strcmp(argv[1], "jpeg") == 0)
        jpeg(atol(argv[2]));
    else
        png(atol(argv[2]));
    return 0;
}
