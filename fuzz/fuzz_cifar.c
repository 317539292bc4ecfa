/* fuzz_cifar.c - the CIFAR-10 binary reader (data_cifar_load in data_cifar.c).
 *
 * The input is the test batch and data_batch_1.bin of a folder whose other four training
 * batches are one valid record each, so both the per-file checks (whole records, labels,
 * gzip) and the assembly of the splits run on it. A success must hold 4 + k training and
 * k test records, k the input's record count; a failure one clean message. */
#include "fuzz_common.h"
#include "data.h"
#include "../src/data_cifar.h"

#define RECORD 3073

static char dir[512];

static void put(const char *name, const uint8_t *data, size_t size)
{
    char p[600];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    fuzz_write_file(p, data, size);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    static uint8_t record[RECORD];
    snprintf(dir, sizeof dir, "%s", fuzz_tmpdir());
    for (int i = 0; i < RECORD; i++) record[i] = (uint8_t)(i * 7);
    record[0] = 3;
    put("data_batch_2.bin", record, RECORD);
    put("data_batch_3.bin", record, RECORD);
    put("data_batch_4.bin", record, RECORD);
    put("data_batch_5.bin", record, RECORD);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    put("data_batch_1.bin", data, size);
    put("test_batch.bin", data, size);
    hc_dataset ds;
    memset(&ds, 0, sizeof ds);
    hc_err e = {0};
    int rc = data_cifar_load(&ds, dir, &e);
    if (rc == 0) {
        int k = ds.test.n;
        FUZZ_CHECK(k > 0 && ds.train.n == 4 + k, "train %d test %d", ds.train.n, k);
        FUZZ_CHECK(ds.channels == 3 && ds.sample_size == RECORD - 1 && ds.n_classes == 10,
                   "shape %d %d %d", ds.channels, ds.sample_size, ds.n_classes);
        if (size >= 2 && !(data[0] == 0x1f && data[1] == 0x8b))
            FUZZ_CHECK((size_t)k * RECORD == size, "%d records from %zu bytes", k, size);
        for (int i = 0; i < ds.train.n; i++) FUZZ_CHECK(ds.train.labels[i] < 10, "label");
        for (int i = 0; i < k; i++) FUZZ_CHECK(ds.test.labels[i] < 10, "label");
        volatile uint8_t last = ds.test.pixels[(size_t)k * (RECORD - 1) - 1];
        (void)last;
    } else {
        fuzz_check_error(&e, rc, "data_cifar_load");
    }
    dataset_free(&ds);
    return 0;
}
