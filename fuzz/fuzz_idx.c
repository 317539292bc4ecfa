/* fuzz_idx.c - the MNIST IDX readers (data_idx.c) on a file made of the input.
 *
 * The same bytes go to idx_read_images and idx_read_labels (the magic decides which one
 * gets past the header); gzip input exercises zlib's path, plain input the other. A
 * success must return exactly the sizes the header announced, all of them readable;
 * a failure one clean message. libFuzzer's -malloc_limit_mb catches a reader that
 * allocates what a header merely claims. */
#include "fuzz_common.h"
#include "../src/data_idx.h"

static char path[512];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    snprintf(path, sizeof path, "%s/input-idx", fuzz_tmpdir());
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_write_file(path, data, size);
    hc_err e = {0};
    uint8_t *pixels = NULL, *labels = NULL;
    int n = -1, rows = -1, cols = -1;
    int rc = idx_read_images(path, &pixels, &n, &rows, &cols, &e);
    if (rc == 0) {
        FUZZ_CHECK(pixels && n > 0 && rows > 0 && cols > 0, "n=%d rows=%d cols=%d", n, rows, cols);
        size_t bytes = (size_t)n * (size_t)rows * (size_t)cols;
        /* plain input: the header (16 bytes) and exactly the pixels it announced */
        if (size >= 2 && !(data[0] == 0x1f && data[1] == 0x8b))
            FUZZ_CHECK(bytes + 16 == size, "%zu pixel bytes from a %zu-byte file", bytes, size);
        volatile uint8_t sum = 0;
        for (size_t i = 0; i < bytes; i += 4096) sum += pixels[i];
        sum += pixels[bytes - 1];
        (void)sum;
    } else {
        fuzz_check_error(&e, rc, "idx_read_images");
        FUZZ_CHECK(!pixels && n == 0, "a failed read returned data (n=%d)", n);
    }
    free(pixels);

    memset(&e, 0, sizeof e);
    n = -1;
    rc = idx_read_labels(path, 10, &labels, &n, &e);
    if (rc == 0) {
        FUZZ_CHECK(labels && n > 0, "n=%d", n);
        if (size >= 2 && !(data[0] == 0x1f && data[1] == 0x8b))
            FUZZ_CHECK((size_t)n + 8 == size, "%d labels from a %zu-byte file", n, size);
        for (int i = 0; i < n; i++) FUZZ_CHECK(labels[i] < 10, "label %d at %d", labels[i], i);
    } else {
        fuzz_check_error(&e, rc, "idx_read_labels");
        FUZZ_CHECK(!labels && n == 0, "a failed read returned data (n=%d)", n);
    }
    free(labels);
    return 0;
}
