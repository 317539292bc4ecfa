/* data_format_list.h - every data set file format, one line each:
 * X(T, KIND, descriptor) (table.h).
 *
 * The kind enum (data.h) and the descriptor table (data.c) are both made from this list,
 * so adding a format is: its own src/data_<format>.c defining `const hc_data_format
 * data_<format>`, one line here, one word in Makefile.am. Append only: --dataset's names
 * are listed in this order. */
#define HC_DATA_FORMAT_LIST(X, T) \
    X(T, DATA_IDX, data_idx) \
    X(T, DATA_CIFAR, data_cifar)
