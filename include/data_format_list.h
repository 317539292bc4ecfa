/* data_format_list.h - every data set file format, one line each:
 * HC_DATA_FORMAT(KIND, descriptor).
 *
 * The kind enum (data.h) and the descriptor table (data.c) are both made from this list,
 * so adding a format is: its own src/data_<format>.c defining `const hc_data_format
 * data_<format>`, one line here, one word in Makefile.am. Append only: --dataset's names
 * are listed in this order. */
HC_DATA_FORMAT(DATA_IDX, data_idx)
HC_DATA_FORMAT(DATA_CIFAR, data_cifar)
