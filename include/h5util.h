/* h5util.h - what every HDF5 user in hyperclip needs: quiet errors turned into one
 * message with the operating system's reason, and closing ids of any kind. */
#ifndef HC_H5UTIL_H
#define HC_H5UTIL_H
#include <hdf5.h>
#include <stdarg.h>
#include "error.h"

typedef struct {
    H5E_auto2_t func;
    void *data;
} h5_quiet_state;

/* Silences HDF5's automatic error printing (our own message says what failed) and
 * returns the caller's setting for h5_restore(). Every HDF5 entry point of hyperclip
 * calls it first, so it also turns off HDF5's dynamically loaded filter plugins: a
 * file from elsewhere naming a filter must fail to read, not make the library load
 * code from HDF5_PLUGIN_PATH (hyperclip's own files use only HDF5's built-in Fletcher32
 * checksum filter, h5_dcpl_checked). */
h5_quiet_state h5_quiet(void);
void h5_restore(h5_quiet_state q);

/* Records "WHERE: WHAT (reason)", the reason being the operating system's (e.g. "No
 * space left on device") when HDF5 recorded one. Call it right after the failing HDF5
 * call: the next API call clears HDF5's error stack. Returns HC_ERR_RUNTIME. */
int h5_fail(hc_err *e, const char *where, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int h5_vfail(hc_err *e, const char *where, const char *fmt, va_list ap);

/* 1 when attribute a holds exactly one element (a scalar or a 1-element array): reading
 * one value from anything larger would write past the caller's buffer. */
int h5_attr_is_single(hid_t a);

/* Closes an id of any kind; ignores negative ids. */
void h5_close(hid_t id);
/* The same, keeping HDF5's error stack (which the close would clear): for clean-up
 * between a failure and the message that says why (h5_checksum_failed). */
void h5_close_keeping_errors(hid_t id);

/* A creation property list of class H5P_GROUP_CREATE or H5P_FILE_CREATE that tracks
 * and indexes link creation order (and attribute creation order when `attrs`), so that
 * tools list objects in the order hyperclip wrote them (level2 before level10, weight
 * before bias, the stack attribute first). -1 on failure. */
hid_t h5_ordered_cpl(hid_t class_id, int attrs);

/* File access properties with HDF5's file locking off: a reader holding the file open
 * (h5py, hyperclip info) must not make the trainer's next write fail. */
hid_t h5_fapl_nolock(void);

/* File access properties for creating a file: h5_fapl_nolock's, and a file format whose
 * superblock, object headers (attributes included) and indexes carry checksums, so a
 * damaged byte of the file's structure is refused when read instead of being trusted.
 * A file written once, whole (a checkpoint), gets HDF5 1.10's format, whose chunk
 * indexes are checksummed too. A file reopened to append (`appended`: the metrics file)
 * gets HDF5 1.8's: 1.10's superblock marks the file "open for writing" while a writer
 * has it, and HDF5 then refuses to open it, for reading too, until `h5clear`: a reader
 * between two appends (h5py, info) would fail, and a run killed while appending could
 * never be resumed. h5py and HDF5 1.8 or later read both. */
hid_t h5_fapl_create(int appended);

/* Dataset creation properties for a dataset of the given shape whose data HDF5 checks
 * when reading: stored in chunks (the whole dataset as one chunk up to 1 GiB) with
 * the Fletcher32 checksum filter, so a damaged byte of the data makes the read fail.
 * A dataset with no elements gets plain properties. -1 on failure. */
hid_t h5_dcpl_checked(int rank, const hsize_t *dims, size_t elem_size);

/* 1 when the filters of dataset creation properties dcpl are none or only Fletcher32
 * (what hyperclip writes), 0 when there are others, -1 on an error. */
int h5_filters_are_ours(hid_t dcpl);

/* The file addresses of the chunks met so far in one file (h5_column_chunks_check). */
typedef struct {
    haddr_t *addr;
    size_t n, cap;
} h5_chunk_addrs;
void h5_chunk_addrs_free(h5_chunk_addrs *s);

/* Checks the chunk index of a 1-D dataset written from its first row on (a metrics
 * column): a chunk at every chunk boundary of rows [0, rows), and every chunk it lists
 * within the extent, on a boundary, of the one size, their addresses added to *seen. Files in HDF5 1.8's format keep chunk indexes without a checksum: a damaged
 * key or address there would make HDF5 read fill values, or another column's chunk
 * (whose own checksum matches), as this column's rows; h5_chunk_addrs_repeat then says
 * whether two chunks of the file share an address. 0 when consistent, 1 when not
 * (damaged), -1 on an HDF5 error or no memory. */
int h5_column_chunks_check(hid_t ds, hsize_t rows, h5_chunk_addrs *seen);
int h5_chunk_addrs_repeat(h5_chunk_addrs *s);

/* 1 when the current HDF5 error stack records a checksum that does not match (a
 * damaged file), else 0. Call right after the failing HDF5 call, as for h5_fail. */
int h5_checksum_failed(void);
#define H5_DAMAGED "a checksum does not match: the file is damaged"

/* Opens path read-only with file locking off (h5_fapl_nolock); -1 when it is not an
 * HDF5 file or cannot be opened (call under h5_quiet for no HDF5 error stack). */
hid_t h5_open_readonly(const char *path);
/* The same with a chunk cache of chunk_cache_bytes per dataset (HDF5's default is 1 MiB;
 * memory is taken only for chunks read, and freed when the dataset closes). */
hid_t h5_open_readonly_cache(const char *path, size_t chunk_cache_bytes);

/* Whether every component of path exists, asked one level at a time: HDF5 1.10 answers a
 * path whose parent group is missing with an error, not "no". <0 on an error. */
htri_t h5_path_exists(hid_t loc, const char *path);

/* "(128, 784)": dims[0..rank) in parentheses, into buf (size bytes). */
void h5_format_shape(char *buf, size_t size, int rank, const hsize_t *dims);

/* A scalar attribute of file type file_type (H5T_STD_I64LE, H5T_IEEE_F64LE, ...) holding
 * *value of memory type mem_type. -1 on failure. */
int h5_put_scalar(hid_t loc, const char *name, hid_t file_type, hid_t mem_type, const void *value);
/* The two every file uses: a 64-bit integer, a 64-bit float. */
int h5_put_long(hid_t loc, const char *name, long value);
int h5_put_double(hid_t loc, const char *name, double value);

/* A scalar attribute holding a UTF-8 string, fixed-length and null-terminated: its bytes
 * then sit in the object header under its checksum. (A variable-length string sits in
 * HDF5's global heap, which has no checksum: a damaged one made HDF5 1.10 read past its
 * buffer. h5py reads a fixed-length string as bytes, not str.) */
int h5_put_string(hid_t loc, const char *name, const char *value);
/* A scalar string attribute, fixed-length or variable-length (files written before the
 * checksums), as a new malloc'd string in *out. -1 when missing, not a single string, or
 * unreadable (HDF5's error stack then says why: h5_checksum_failed); *out is then NULL. */
int h5_get_string(hid_t loc, const char *name, char **out);
/* The "description" and "unit" attributes every dataset hyperclip writes carries. */
int h5_describe(hid_t obj, const char *description, const char *unit);

#endif
