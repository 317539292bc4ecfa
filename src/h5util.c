/* h5util.c - HDF5 error handling and clean-up shared by metrics, model_io, info, ckpt. */
#include "h5util.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

h5_quiet_state h5_quiet(void)
{
    h5_quiet_state q = {NULL, NULL};
    H5Eget_auto2(H5E_DEFAULT, &q.func, &q.data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    H5PLset_loading_state(0);
    return q;
}

void h5_restore(h5_quiet_state q) { H5Eset_auto2(H5E_DEFAULT, q.func, q.data); }

typedef struct {
    char text[256];
} h5_reason;

static int is_checksum_error(const H5E_error2_t *err)
{
    return (err->desc && (strstr(err->desc, "checksum") || strstr(err->desc, "Checksum")));
}

/* HDF5 records the operating system's reason in its innermost error as
 * "error message = '...'"; take that, else a checksum failure (a damaged file), else
 * the innermost error's text. */
static herr_t find_reason(unsigned n, const H5E_error2_t *err, void *data)
{
    static const char key[] = "error message = '";
    h5_reason *r = data;
    if (is_checksum_error(err)) {
        snprintf(r->text, sizeof r->text, "%s", H5_DAMAGED);
        return 1;
    }
    const char *p = err->desc ? strstr(err->desc, key) : NULL;
    if (p) {
        p += sizeof key - 1;
        size_t len = strcspn(p, "'");
        if (len >= sizeof r->text) len = sizeof r->text - 1;
        memcpy(r->text, p, len);
        r->text[len] = '\0';
        return 1; /* stop the walk */
    }
    if (n == 0 && err->desc) snprintf(r->text, sizeof r->text, "%s", err->desc);
    return 0;
}

int h5_vfail(hc_err *e, const char *where, const char *fmt, va_list ap)
{
    char what[512];
    h5_reason r = {""};
    vsnprintf(what, sizeof what, fmt, ap);
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, find_reason, &r);
    if (r.text[0]) return hc_fail(e, HC_ERR_RUNTIME, "%s: %s (%s)", where, what, r.text);
    return hc_fail(e, HC_ERR_RUNTIME, "%s: %s", where, what);
}

int h5_fail(hc_err *e, const char *where, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = h5_vfail(e, where, fmt, ap);
    va_end(ap);
    return rc;
}

void h5_close(hid_t id)
{
    if (id < 0) return;
    switch (H5Iget_type(id)) {
    case H5I_FILE: H5Fclose(id); break;
    case H5I_GROUP: H5Gclose(id); break;
    case H5I_DATASET: H5Dclose(id); break;
    case H5I_DATASPACE: H5Sclose(id); break;
    case H5I_DATATYPE: H5Tclose(id); break;
    case H5I_ATTR: H5Aclose(id); break;
    case H5I_GENPROP_LST: H5Pclose(id); break;
    default: break;
    }
}

void h5_close_keeping_errors(hid_t id)
{
    hid_t stack = H5Eget_current_stack();
    h5_close(id);
    if (stack >= 0) H5Eset_current_stack(stack);   /* also closes the copy */
}

hid_t h5_fapl_nolock(void)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl >= 0 && H5Pset_file_locking(fapl, 0, 1) < 0) {
        H5Pclose(fapl);
        return -1;
    }
    return fapl;
}

static herr_t find_checksum(unsigned n, const H5E_error2_t *err, void *data)
{
    (void)n;
    return *(int *)data = is_checksum_error(err);
}

int h5_checksum_failed(void)
{
    int found = 0;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, find_checksum, &found);
    return found;
}

hid_t h5_fapl_create(int appended)
{
    hid_t fapl = h5_fapl_nolock();
    H5F_libver_t oldest = appended ? H5F_LIBVER_V18 : H5F_LIBVER_V110;
    if (fapl >= 0 && H5Pset_libver_bounds(fapl, oldest, H5F_LIBVER_LATEST) < 0) {
        H5Pclose(fapl);
        return -1;
    }
    return fapl;
}

hid_t h5_dcpl_checked(int rank, const hsize_t *dims, size_t elem_size)
{
    hsize_t chunk[H5S_MAX_RANK], elements = 1;
    hid_t p = H5Pcreate(H5P_DATASET_CREATE);
    if (p < 0 || rank < 1 || rank > H5S_MAX_RANK) return p;
    for (int i = 0; i < rank; i++) elements *= chunk[i] = dims[i];
    if (elements == 0) return p;
    /* HDF5 chunks hold under 4 GiB: halve the leading dimension down to 1 GiB */
    while (chunk[0] > 1 && (elements / dims[0]) * chunk[0] * elem_size > (1u << 30))
        chunk[0] = (chunk[0] + 1) / 2;
    if (H5Pset_chunk(p, rank, chunk) < 0 || H5Pset_fletcher32(p) < 0) {
        H5Pclose(p);
        return -1;
    }
    return p;
}

int h5_filters_are_ours(hid_t dcpl)
{
    int n = H5Pget_nfilters(dcpl);
    if (n < 0) return -1;
    for (int i = 0; i < n; i++) {
        unsigned flags, config;
        size_t n_values = 0;
        H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)i, &flags, &n_values, NULL, 0, NULL, &config);
        if (id < 0) return -1;
        if (id != H5Z_FILTER_FLETCHER32) return 0;
    }
    return 1;
}

void h5_chunk_addrs_free(h5_chunk_addrs *s)
{
    free(s->addr);
    memset(s, 0, sizeof *s);
}

/* Adds a to s; -1 when out of memory. */
static int add_addr(h5_chunk_addrs *s, haddr_t a)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        haddr_t *grown = realloc(s->addr, cap * sizeof *grown);
        if (!grown) return -1;
        s->addr = grown;
        s->cap = cap;
    }
    s->addr[s->n++] = a;
    return 0;
}

static int by_addr(const void *a, const void *b)
{
    haddr_t x = *(const haddr_t *)a, y = *(const haddr_t *)b;
    return (x > y) - (x < y);
}

int h5_chunk_addrs_repeat(h5_chunk_addrs *s)
{
    if (s->n > 1) qsort(s->addr, s->n, sizeof *s->addr, by_addr);
    for (size_t i = 1; i < s->n; i++)
        if (s->addr[i] == s->addr[i - 1]) return 1;
    return 0;
}

int h5_column_chunks_check(hid_t ds, hsize_t rows, h5_chunk_addrs *seen)
{
    hid_t dcpl = H5Dget_create_plist(ds), type = H5Dget_type(ds);
    hsize_t chunk = 0;
    int layout = dcpl < 0 ? -1 : H5Pget_layout(dcpl);
    int rank = layout == H5D_CHUNKED ? H5Pget_chunk(dcpl, 1, &chunk) : 0;
    int filters = dcpl < 0 ? -1 : H5Pget_nfilters(dcpl), ours = dcpl < 0 ? -1 : h5_filters_are_ours(dcpl);
    size_t elem = type < 0 ? 0 : H5Tget_size(type);
    h5_close(type);
    h5_close(dcpl);
    if (layout < 0 || filters < 0 || ours < 0 || elem == 0) return -1;
    if (rank != 1 || chunk == 0) return 0;     /* not a column's chunks: nothing to check */
    /* a chunk stored plain, or under Fletcher32 alone, has one size: its rows and the sum */
    hsize_t stored = filters == 0 ? chunk * elem : filters == 1 && ours ? chunk * elem + 4 : 0;
    for (hsize_t at = 0; at < rows; at += chunk) {
        unsigned mask = 0;
        haddr_t addr = HADDR_UNDEF;
        hsize_t size = 0;
        if (H5Dget_chunk_info_by_coord(ds, &at, &mask, &addr, &size) < 0) return -1;
        if (addr == HADDR_UNDEF || size == 0 || (stored && size != stored)) return 1;
    }
    /* then every chunk the index lists, as the reads meet them: within the extent, on a
     * chunk boundary, of the one size, each at its own address (a damaged count of
     * entries in an index node makes HDF5 list, and read, entries that are not there) */
    hid_t space = H5Dget_space(ds);
    hsize_t extent = 0, n = 0;
    int rc = space < 0 || H5Sget_simple_extent_dims(space, &extent, NULL) != 1 ||
             H5Dget_num_chunks(ds, space, &n) < 0 ? -1 : 0;
    if (!rc && n > (extent + chunk - 1) / chunk) rc = 1;
    for (hsize_t i = 0; i < n && !rc; i++) {
        hsize_t offset = 0, size = 0;
        unsigned mask = 0;
        haddr_t addr = HADDR_UNDEF;
        if (H5Dget_chunk_info(ds, space, i, &offset, &mask, &addr, &size) < 0) rc = -1;
        else if (addr == HADDR_UNDEF || offset % chunk || offset >= extent ||
                 (stored && size != stored))
            rc = 1;
        else if (add_addr(seen, addr))
            rc = -1;
    }
    h5_close(space);
    return rc;
}

int h5_attr_is_single(hid_t a)
{
    hid_t space = a < 0 ? -1 : H5Aget_space(a);
    hssize_t n = space < 0 ? -1 : H5Sget_simple_extent_npoints(space);
    if (space >= 0) H5Sclose(space);
    return n == 1;
}

hid_t h5_ordered_cpl(hid_t class_id, int attrs)
{
    const unsigned order = H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED;
    hid_t p = H5Pcreate(class_id);
    if (p >= 0 && (H5Pset_link_creation_order(p, order) < 0 ||
                   (attrs && H5Pset_attr_creation_order(p, order) < 0))) {
        H5Pclose(p);
        return -1;
    }
    return p;
}

int h5_put_string(hid_t loc, const char *name, const char *value)
{
    hid_t type = H5Tcopy(H5T_C_S1), space = H5Screate(H5S_SCALAR), a = -1;
    const char *v = value ? value : "";
    int rc = -1;
    if (type >= 0 && space >= 0 && H5Tset_size(type, strlen(v) + 1) >= 0 &&
        H5Tset_strpad(type, H5T_STR_NULLTERM) >= 0 && H5Tset_cset(type, H5T_CSET_UTF8) >= 0 &&
        (a = H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT)) >= 0 &&
        H5Awrite(a, type, v) >= 0)
        rc = 0;
    h5_close(a);
    h5_close(space);
    h5_close(type);
    return rc;
}

int h5_get_string(hid_t loc, const char *name, char **out)
{
    *out = NULL;
    if (H5Aexists(loc, name) <= 0) return -1;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT), ft = a < 0 ? -1 : H5Aget_type(a), mt = -1;
    int rc = -1;
    if (ft < 0 || !h5_attr_is_single(a) || H5Tget_class(ft) != H5T_STRING) goto done;
    if (H5Tis_variable_str(ft) > 0) {
        char *v = NULL;
        mt = H5Tcopy(ft);   /* the file's character set: HDF5 does not convert between sets */
        if (mt >= 0 && H5Aread(a, mt, &v) >= 0 && v) {
            *out = strdup(v);
            H5free_memory(v);
            rc = *out ? 0 : -1;
        }
    } else {
        size_t n = H5Tget_size(ft);
        char *buf = n > 0 && n < (1u << 24) ? calloc(n + 1, 1) : NULL;
        mt = H5Tcopy(ft);
        if (buf && mt >= 0 && H5Aread(a, mt, buf) >= 0) {
            *out = buf;
            rc = 0;
        } else {
            free(buf);
        }
    }
done:
    /* a failure keeps HDF5's error stack: the caller may ask h5_checksum_failed() */
    (rc ? h5_close_keeping_errors : h5_close)(mt);
    (rc ? h5_close_keeping_errors : h5_close)(ft);
    (rc ? h5_close_keeping_errors : h5_close)(a);
    return rc;
}

int h5_describe(hid_t obj, const char *description, const char *unit)
{
    return h5_put_string(obj, "description", description) || h5_put_string(obj, "unit", unit)
               ? -1 : 0;
}

hid_t h5_open_readonly(const char *path) { return h5_open_readonly_cache(path, 0); }

hid_t h5_open_readonly_cache(const char *path, size_t chunk_cache_bytes)
{
    hid_t fapl = h5_fapl_nolock(), file = -1;
    if (fapl < 0) return -1;
    if (chunk_cache_bytes && H5Pset_cache(fapl, 0, 521, chunk_cache_bytes, 1.0) < 0) {
        H5Pclose(fapl);
        return -1;
    }
    if (H5Fis_hdf5(path) > 0) file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    H5Pclose(fapl);
    return file;
}

htri_t h5_path_exists(hid_t loc, const char *path)
{
    char *p = strdup(path);
    if (!p) return -1;
    htri_t exists = 1;
    for (char *s = p + 1; exists > 0; s++) {
        char saved = *s;
        if (saved != '/' && saved != '\0') continue;
        *s = '\0';
        exists = H5Lexists(loc, p, H5P_DEFAULT);
        *s = saved;
        if (saved == '\0') break;
    }
    free(p);
    return exists;
}

void h5_format_shape(char *buf, size_t size, int rank, const hsize_t *dims)
{
    size_t n = (size_t)snprintf(buf, size, "(");
    for (int i = 0; i < rank && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, "%s%llu", i ? ", " : "",
                              (unsigned long long)dims[i]);
    if (n < size) snprintf(buf + n, size - n, ")");
}

int h5_put_scalar(hid_t loc, const char *name, hid_t file_type, hid_t mem_type, const void *value)
{
    hid_t space = H5Screate(H5S_SCALAR), a = -1;
    int rc = space < 0 ||
             (a = H5Acreate2(loc, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
             H5Awrite(a, mem_type, value) < 0 ? -1 : 0;
    h5_close(a);
    h5_close(space);
    return rc;
}

int h5_put_long(hid_t loc, const char *name, long value)
{
    return h5_put_scalar(loc, name, H5T_STD_I64LE, H5T_NATIVE_LONG, &value);
}

int h5_put_double(hid_t loc, const char *name, double value)
{
    return h5_put_scalar(loc, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value);
}
