/* info.c - `hyperclip info FILE.h5`: what a checkpoint, weights or metrics file
 * holds, in words.
 *
 * Nothing here hard-codes a dataset list: the file is walked with H5Literate and
 * every attribute, tensor, column and level found is reported, so the output stays
 * right as the trainer adds hyperparameters, levels or checkpoint state. The only
 * names it knows are the top-level groups of interfaces.md (model, steps, epochs),
 * the levelK convention and the root attribute "format". */
#include "info.h"
#include <errno.h>
#include <hdf5.h>
#include "digest.h"
#include "files.h"
#include "h5util.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_DEPTH 16      /* deeper nesting (or a cycle of hard links) is not walked */
#define MAX_ATTR_VALUES 16
#define MAX_DATA_VALUES 8 /* small datasets (counters, seeds) are shown in full */
#define NAME_BUF 512

/* ---- HDF5 plumbing ---- */

/* The creation property list of a group or dataset, or -1. */
static hid_t create_plist(hid_t obj)
{
    switch (H5Iget_type(obj)) {
    case H5I_GROUP: return H5Gget_create_plist(obj);
    case H5I_DATASET: return H5Dget_create_plist(obj);
    default: return -1;
    }
}

/* Creation order when the writer tracked it (hyperclip's writers do: the trainer's
 * order, level2 before level10), else alphabetical. `get` reads the link or the
 * attribute flags of a creation property list. */
static H5_index_t tracked_order(hid_t obj, herr_t (*get)(hid_t, unsigned *))
{
    unsigned flags = 0;
    hid_t p = create_plist(obj);
    if (p < 0 || get(p, &flags) < 0) flags = 0;
    h5_close(p);
    return (flags & H5P_CRT_ORDER_TRACKED) ? H5_INDEX_CRT_ORDER : H5_INDEX_NAME;
}
static H5_index_t link_order(hid_t group) { return tracked_order(group, H5Pget_link_creation_order); }
static H5_index_t attr_order(hid_t obj) { return tracked_order(obj, H5Pget_attr_creation_order); }

static herr_t iterate_links(hid_t group, H5L_iterate_t op, void *data)
{
    hsize_t idx = 0;
    return H5Literate(group, link_order(group), H5_ITER_INC, &idx, op, data);
}

static const char *plural(unsigned long long n)
{
    return n == 1 ? "" : "s";
}

/* ---- describing types, shapes and values ---- */

/* "float32", "int64", "string", ... */
static void type_words(hid_t type, char *buf, size_t size)
{
    size_t bits = 8 * H5Tget_size(type);
    switch (H5Tget_class(type)) {
    case H5T_FLOAT: snprintf(buf, size, "float%zu", bits); break;
    case H5T_INTEGER:
        snprintf(buf, size, "%sint%zu", H5Tget_sign(type) == H5T_SGN_NONE ? "u" : "", bits);
        break;
    case H5T_STRING: snprintf(buf, size, "string"); break;
    case H5T_COMPOUND: snprintf(buf, size, "compound"); break;
    case H5T_ENUM: snprintf(buf, size, "enum"); break;
    case H5T_ARRAY: snprintf(buf, size, "array"); break;
    case H5T_VLEN: snprintf(buf, size, "variable-length"); break;
    default: snprintf(buf, size, "opaque"); break;
    }
}

/* "(4, 6)", or "scalar" for a single value without dimensions. */
static void shape_words(hid_t space, char *buf, size_t size)
{
    hsize_t dims[H5S_MAX_RANK];
    int rank = H5Sget_simple_extent_ndims(space);
    if (rank <= 0 || H5Sget_simple_extent_dims(space, dims, NULL) < 0) {
        snprintf(buf, size, rank == 0 ? "scalar" : "(unknown shape)");
        return;
    }
    h5_format_shape(buf, size, rank, dims);
}

/* An attribute or a dataset: both are read whole the same way. */
typedef struct {
    hid_t id;
    int is_attr;
} source;

static herr_t read_all(source s, hid_t mem_type, void *buf)
{
    return s.is_attr ? H5Aread(s.id, mem_type, buf)
                     : H5Dread(s.id, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
}

static void print_list_sep(FILE *out, size_t i, size_t n)
{
    if (n > 1) fputs(i == 0 ? "[" : ", ", out);
}

static herr_t print_numbers(FILE *out, source s, hid_t ftype, size_t n)
{
    if (H5Tget_class(ftype) == H5T_FLOAT) {
        double v[MAX_ATTR_VALUES];
        if (read_all(s, H5T_NATIVE_DOUBLE, v) < 0) return -1;
        for (size_t i = 0; i < n; i++) {
            print_list_sep(out, i, n);
            fprintf(out, "%.6g", v[i]);
        }
    } else if (H5Tget_sign(ftype) == H5T_SGN_NONE) {
        unsigned long long v[MAX_ATTR_VALUES];
        if (read_all(s, H5T_NATIVE_ULLONG, v) < 0) return -1;
        for (size_t i = 0; i < n; i++) {
            print_list_sep(out, i, n);
            fprintf(out, "%llu", v[i]);
        }
    } else {
        long long v[MAX_ATTR_VALUES];
        if (read_all(s, H5T_NATIVE_LLONG, v) < 0) return -1;
        for (size_t i = 0; i < n; i++) {
            print_list_sep(out, i, n);
            fprintf(out, "%lld", v[i]);
        }
    }
    if (n > 1) fputc(']', out);
    return 0;
}

/* Variable-length strings come back as library-allocated pointers. */
static herr_t print_vl_strings(FILE *out, source s, hid_t ftype, size_t n)
{
    char *v[MAX_ATTR_VALUES] = {NULL};
    hid_t mem = H5Tcopy(H5T_C_S1);
    herr_t rc = -1;
    if (mem >= 0 && H5Tset_size(mem, H5T_VARIABLE) >= 0 &&
        H5Tset_cset(mem, H5Tget_cset(ftype)) >= 0 && read_all(s, mem, v) >= 0) {
        for (size_t i = 0; i < n; i++) {
            print_list_sep(out, i, n);
            fputs(v[i] ? v[i] : "", out);
            H5free_memory(v[i]);
        }
        rc = 0;
    }
    h5_close(mem);
    return rc;
}

static herr_t print_fixed_strings(FILE *out, source s, hid_t ftype, size_t n)
{
    size_t len = H5Tget_size(ftype);
    char *buf = len ? malloc(n * len) : NULL;
    if (!buf) return -1;
    herr_t rc = read_all(s, ftype, buf);
    for (size_t i = 0; rc >= 0 && i < n; i++) {
        const char *str = buf + i * len;
        print_list_sep(out, i, n);
        fprintf(out, "%.*s", (int)strnlen(str, len), str);
    }
    free(buf);
    return rc;
}

/* Prints every value of a small attribute or dataset, in words. */
static herr_t print_values(FILE *out, source s, hid_t ftype, size_t n)
{
    switch (H5Tget_class(ftype)) {
    case H5T_INTEGER:
    case H5T_FLOAT: return print_numbers(out, s, ftype, n);
    case H5T_STRING:
        return H5Tis_variable_str(ftype) > 0 ? print_vl_strings(out, s, ftype, n)
                                             : print_fixed_strings(out, s, ftype, n);
    default: {
        char t[32];
        type_words(ftype, t, sizeof t);
        fprintf(out, "(%s value)", t);
        return 0;
    }
    }
}

/* "VALUE", or "TYPE SHAPE" when there are too many values to show. */
static herr_t print_source(FILE *out, source s, size_t max_values)
{
    hid_t type = s.is_attr ? H5Aget_type(s.id) : H5Dget_type(s.id);
    hid_t space = s.is_attr ? H5Aget_space(s.id) : H5Dget_space(s.id);
    hssize_t n = space < 0 ? -1 : H5Sget_simple_extent_npoints(space);
    herr_t rc = 0;
    if (type < 0 || n < 0) {
        rc = -1;
    } else if (n >= 1 && (size_t)n <= max_values) {
        rc = print_values(out, s, type, (size_t)n);
    } else {
        char t[32], sh[160];
        type_words(type, t, sizeof t);
        shape_words(space, sh, sizeof sh);
        fprintf(out, "%s %s", t, sh);
    }
    h5_close(space);
    h5_close(type);
    return rc;
}

typedef struct {
    FILE *out;
    const char *header; /* printed before the first attribute, if any */
    const char *indent;
} attr_printer;

static herr_t print_attr(hid_t loc, const char *name, const H5A_info_t *info, void *data)
{
    (void)info;
    attr_printer *p = data;
    source s = {H5Aopen(loc, name, H5P_DEFAULT), 1};
    if (s.id < 0) return -1;
    if (p->header) fputs(p->header, p->out);
    p->header = NULL;
    fprintf(p->out, "%s%s = ", p->indent, name);
    herr_t rc = print_source(p->out, s, MAX_ATTR_VALUES);
    fputc('\n', p->out);
    H5Aclose(s.id);
    return rc;
}

static herr_t print_attrs(hid_t obj, FILE *out, const char *header, const char *indent)
{
    attr_printer p = {out, header, indent};
    hsize_t idx = 0;
    return H5Aiterate2(obj, attr_order(obj), H5_ITER_INC, &idx, print_attr, &p);
}

/* Rows in a 1-D dataset and its last value when numeric (NaN when there is none). */
static herr_t last_value(hid_t ds, hsize_t *rows, double *last)
{
    hid_t space = H5Dget_space(ds), type = H5Dget_type(ds), mspace = -1;
    hsize_t one = 1, at;
    herr_t rc = -1;
    *rows = 0;
    *last = NAN;
    if (space < 0 || type < 0 || H5Sget_simple_extent_ndims(space) != 1 ||
        H5Sget_simple_extent_dims(space, rows, NULL) < 0)
        goto done;
    rc = 0;
    H5T_class_t cls = H5Tget_class(type);
    if (*rows == 0 || (cls != H5T_FLOAT && cls != H5T_INTEGER)) goto done;
    at = *rows - 1;
    if (H5Sselect_hyperslab(space, H5S_SELECT_SET, &at, NULL, &one, NULL) < 0 ||
        (mspace = H5Screate_simple(1, &one, NULL)) < 0 ||
        H5Dread(ds, H5T_NATIVE_DOUBLE, mspace, space, H5P_DEFAULT, last) < 0)
        rc = -1;
done:
    h5_close(mspace);
    h5_close(type);
    h5_close(space);
    return rc;
}

/* ---- a generic walk over a group's tree ---- */

typedef herr_t (*visit_fn)(hid_t obj, const char *path, void *data);

typedef struct {
    const char *prefix; /* path of the group being listed, relative to the walk's root */
    int depth;
    visit_fn fn;
    void *data;
} walk_state;

static herr_t walk_link(hid_t group, const char *name, const H5L_info_t *info, void *data);

/* Calls fn on every object below group (depth first, in link order), with paths
 * relative to it. */
static herr_t walk(hid_t group, const char *prefix, int depth, visit_fn fn, void *data)
{
    walk_state w = {prefix, depth, fn, data};
    return iterate_links(group, walk_link, &w);
}

static herr_t walk_link(hid_t group, const char *name, const H5L_info_t *info, void *data)
{
    const walk_state *w = data;
    char path[NAME_BUF];
    snprintf(path, sizeof path, "%s%s%s", w->prefix, *w->prefix ? "/" : "", name);
    hid_t obj = H5Oopen(group, name, H5P_DEFAULT);
    /* a dangling soft or external link: nothing to describe; a hard link always names an
     * object, so failing to open one is damage (an object header whose checksum fails) */
    if (obj < 0) return info->type == H5L_TYPE_HARD ? -1 : 0;
    herr_t rc = w->fn(obj, path, w->data);
    if (rc >= 0 && H5Iget_type(obj) == H5I_GROUP && w->depth < MAX_DEPTH)
        rc = walk(obj, path, w->depth + 1, w->fn, w->data);
    if (rc < 0) h5_close_keeping_errors(obj);   /* the message says whether a checksum failed */
    else H5Oclose(obj);
    return rc;
}

/* Opens a top-level group by name and walks it. */
static herr_t walk_named(hid_t root, const char *name, visit_fn fn, void *data)
{
    hid_t g = H5Gopen2(root, name, H5P_DEFAULT);
    if (g < 0) return -1;
    herr_t rc = walk(g, "", 0, fn, data);
    if (rc < 0) h5_close_keeping_errors(g);
    else H5Gclose(g);
    return rc;
}

/* ---- /model ---- */

typedef struct {
    FILE *out;
    unsigned long long tensors, params;
} model_summary;

static herr_t count_tensor(hid_t obj, const char *path, void *data)
{
    (void)path;
    model_summary *s = data;
    if (H5Iget_type(obj) != H5I_DATASET) return 0;
    hid_t space = H5Dget_space(obj);
    hssize_t n = space < 0 ? -1 : H5Sget_simple_extent_npoints(space);
    h5_close(space);
    if (n < 0) return -1;
    s->tensors++;
    s->params += (unsigned long long)n;
    return 0;
}

static herr_t print_tensor(hid_t obj, const char *path, void *data)
{
    model_summary *s = data;
    if (H5Iget_type(obj) != H5I_DATASET) return 0;
    hid_t space = H5Dget_space(obj), type = H5Dget_type(obj);
    char t[32], sh[160];
    herr_t rc = -1;
    if (space >= 0 && type >= 0) {
        type_words(type, t, sizeof t);
        shape_words(space, sh, sizeof sh);
        fprintf(s->out, "  %-16s %s %s\n", path, t, sh);
        rc = 0;
    }
    h5_close(type);
    h5_close(space);
    return rc;
}

static herr_t describe_model(hid_t root, FILE *out)
{
    model_summary s = {out, 0, 0};
    if (walk_named(root, "model", count_tensor, &s) < 0) return -1;
    fprintf(out, "model: %llu tensor%s, %llu parameter%s\n", s.tensors, plural(s.tensors),
            s.params, plural(s.params));
    return walk_named(root, "model", print_tensor, &s);
}

/* ---- /steps and /epochs ---- */

typedef struct {
    unsigned long long columns, min_rows, max_rows;
} column_summary;

static herr_t count_rows(hid_t obj, const char *path, void *data)
{
    (void)path;
    column_summary *s = data;
    hsize_t rows;
    double last;
    if (H5Iget_type(obj) != H5I_DATASET) return 0;
    if (last_value(obj, &rows, &last) < 0) return 0; /* not a column: not counted */
    if (s->columns == 0 || rows < s->min_rows) s->min_rows = rows;
    if (s->columns == 0 || rows > s->max_rows) s->max_rows = rows;
    s->columns++;
    return 0;
}

/* "NAME VALUE": test_error (a fraction) as a percentage. */
static void print_last(FILE *out, const char *name, hid_t ds)
{
    hsize_t rows;
    double v;
    const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
    if (last_value(ds, &rows, &v) < 0)
        fprintf(out, "%s (not a column)", name);
    else if (rows == 0)
        fprintf(out, "%s (no rows yet)", name);
    else if (strcmp(base, "test_error") == 0)
        fprintf(out, "%s %.2f%%", name, 100.0 * v);
    else
        fprintf(out, "%s %.6g", name, v);
}

typedef struct {
    FILE *out;
    int n;      /* items printed on the current line */
} line_printer;

/* Adds "NAME VALUE" of each dataset to the current line, comma separated. */
static herr_t print_last_item(hid_t obj, const char *path, void *data)
{
    line_printer *p = data;
    if (H5Iget_type(obj) != H5I_DATASET) return 0;
    fputs(p->n++ ? ", " : " ", p->out);
    print_last(p->out, path, obj);
    return 0;
}

/* One line per hyperparameter of a levelK group: "level K alpha: value .., grad ..". */
typedef struct {
    FILE *out;
    int level;
} level_printer;

static herr_t print_hyper(hid_t group, const char *name, const H5L_info_t *info, void *data)
{
    (void)info;
    level_printer *lp = data;
    line_printer p = {lp->out, 0};
    hid_t obj = H5Oopen(group, name, H5P_DEFAULT);
    if (obj < 0) return 0;
    herr_t rc = 0;
    fprintf(lp->out, "  level %d %s:", lp->level, name);
    if (H5Iget_type(obj) == H5I_GROUP)
        rc = walk(obj, "", 0, print_last_item, &p);
    else
        rc = print_last_item(obj, "last", &p);
    fputc('\n', lp->out);
    H5Oclose(obj);
    return rc;
}

/* The level number of a group named "levelK", or 0. */
static int level_number(const char *name)
{
    int k = 0, end = 0;
    if (sscanf(name, "level%d%n", &k, &end) == 1 && name[end] == '\0' && k > 0) return k;
    return 0;
}

/* A child of /steps: a column (loss), a levelK group, or any other group. */
static herr_t print_step_child(hid_t group, const char *name, const H5L_info_t *info, void *data)
{
    (void)info;
    FILE *out = data;
    hid_t obj = H5Oopen(group, name, H5P_DEFAULT);
    if (obj < 0) return 0;
    herr_t rc = 0;
    int level = level_number(name);
    if (H5Iget_type(obj) != H5I_GROUP) {
        line_printer p = {out, 0};
        fputs("  last", out);
        rc = print_last_item(obj, name, &p);
        fputc('\n', out);
    } else if (level > 0) {
        level_printer lp = {out, level};
        rc = iterate_links(obj, print_hyper, &lp);
    } else {
        line_printer p = {out, 0};
        fprintf(out, "  %s, last values:", name);
        rc = walk(obj, "", 0, print_last_item, &p);
        fputc('\n', out);
    }
    H5Oclose(obj);
    return rc;
}

/* "steps: 1210 steps recorded" */
static void print_row_count(FILE *out, const char *unit, const column_summary *s)
{
    fprintf(out, "%ss: %llu %s%s recorded", unit, s->max_rows, unit, plural(s->max_rows));
    if (s->min_rows != s->max_rows)
        fprintf(out, " (columns differ: %llu to %llu rows)", s->min_rows, s->max_rows);
}

static herr_t describe_steps(hid_t root, FILE *out)
{
    column_summary s = {0, 0, 0};
    if (walk_named(root, "steps", count_rows, &s) < 0) return -1;
    print_row_count(out, "step", &s);
    fprintf(out, " in %llu column%s; last values:\n", s.columns, plural(s.columns));
    hid_t g = H5Gopen2(root, "steps", H5P_DEFAULT);
    if (g < 0) return -1;
    herr_t rc = iterate_links(g, print_step_child, out);
    H5Gclose(g);
    return rc;
}

static herr_t describe_epochs(hid_t root, FILE *out)
{
    column_summary s = {0, 0, 0};
    line_printer p = {out, 0};
    if (walk_named(root, "epochs", count_rows, &s) < 0) return -1;
    print_row_count(out, "epoch", &s);
    if (s.max_rows == 0) {
        fputc('\n', out);
        return 0;
    }
    fputs("; the last one:\n ", out);
    herr_t rc = walk_named(root, "epochs", print_last_item, &p);
    fputc('\n', out);
    return rc;
}

/* ---- what the datasets of model, steps and epochs are: description [unit] ---- */

#define MAX_KINDS 64

typedef struct {
    int n;
    struct {
        char *desc, *unit, path[NAME_BUF];
        int more;
    } kind[MAX_KINDS];
} kinds;

/* Groups the datasets by (description, unit): the first path of each and how many more. */
static herr_t collect_kind(hid_t obj, const char *path, void *data)
{
    kinds *k = data;
    char *desc = NULL, *unit = NULL;
    if (H5Iget_type(obj) != H5I_DATASET || h5_get_string(obj, "description", &desc)) return 0;
    h5_get_string(obj, "unit", &unit);
    for (int i = 0; i < k->n; i++)
        if (!strcmp(k->kind[i].desc, desc) && !strcmp(k->kind[i].unit ? k->kind[i].unit : "",
                                                       unit ? unit : "")) {
            k->kind[i].more++;
            free(desc);
            free(unit);
            return 0;
        }
    if (k->n == MAX_KINDS) {
        free(desc);
        free(unit);
        return 0;
    }
    k->kind[k->n].desc = desc;
    k->kind[k->n].unit = unit;
    k->kind[k->n].more = 0;
    snprintf(k->kind[k->n].path, NAME_BUF, "%s", path);
    k->n++;
    return 0;
}

static herr_t describe_kinds(hid_t root, FILE *out)
{
    static const char *const groups[] = {"model", "steps", "epochs"};
    kinds k;
    char path[NAME_BUF];
    herr_t rc = 0;
    k.n = 0;
    for (size_t g = 0; g < sizeof groups / sizeof *groups && rc >= 0; g++) {
        if (H5Lexists(root, groups[g], H5P_DEFAULT) <= 0) continue;
        hid_t grp = H5Gopen2(root, groups[g], H5P_DEFAULT);
        if (grp < 0) return -1;
        rc = walk(grp, groups[g], 0, collect_kind, &k);
        H5Gclose(grp);
    }
    if (k.n) fputs("datasets (description [unit]):\n", out);
    for (int i = 0; i < k.n; i++) {
        snprintf(path, sizeof path, "%s", k.kind[i].path);
        if (k.kind[i].more) fprintf(out, "  %s and %d more: ", path, k.kind[i].more);
        else fprintf(out, "  %s: ", path);
        fprintf(out, "%s [%s]\n", k.kind[i].desc, k.kind[i].unit ? k.kind[i].unit : "?");
        free(k.kind[i].desc);
        free(k.kind[i].unit);
    }
    return rc;
}

/* ---- anything else (checkpoint state, foreign groups) ---- */

/* "path  TYPE SHAPE" or "path = VALUES" for small datasets, then attributes. */
static herr_t print_object(hid_t obj, const char *path, void *data)
{
    FILE *out = data;
    herr_t rc = 0;
    if (H5Iget_type(obj) == H5I_DATASET) {
        fprintf(out, "  %s = ", path);
        rc = print_source(out, (source){obj, 0}, MAX_DATA_VALUES);
        fputc('\n', out);
    } else {
        fprintf(out, "  %s/\n", path);
    }
    return rc < 0 ? rc : print_attrs(obj, out, NULL, "      @");
}

typedef struct {
    FILE *out;
    int listed;     /* objects listed so far (the heading goes before the first) */
} other_printer;

/* A top-level object that is not model, steps or epochs, with all it holds. */
static herr_t print_other_child(hid_t root, const char *name, const H5L_info_t *info, void *data)
{
    other_printer *p = data;
    static const char *const known[] = {"model", "steps", "epochs"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(name, known[i]) == 0) return 0;
    hid_t obj = H5Oopen(root, name, H5P_DEFAULT);
    if (obj < 0) return info->type == H5L_TYPE_HARD ? -1 : 0;   /* as in walk_link */
    if (p->listed++ == 0) fputs("other contents:\n", p->out);
    herr_t rc = print_object(obj, name, p->out);
    if (rc >= 0 && H5Iget_type(obj) == H5I_GROUP) rc = walk(obj, name, 1, print_object, p->out);
    if (rc < 0) h5_close_keeping_errors(obj);
    else H5Oclose(obj);
    return rc;
}

/* ---- integrity: every dataset read back through its checksum ---- */

/* Why the read that just failed failed, as far as HDF5's error stack says. */
static const char *why_unreadable(void)
{
    return h5_checksum_failed() ? H5_DAMAGED : "damaged, or being written?";
}

typedef struct {
    unsigned long long datasets, read, checked; /* numeric; read back; of them under Fletcher32 */
    h5_chunk_addrs chunks;                  /* of the 1-D columns, to find two sharing one */
    int bad_index;                          /* a column's chunk index is damaged */
    uint64_t model, state;                  /* digest.h: of /model's and /state's arrays */
    char failed[NAME_BUF];                  /* the first that could not be read */
    int damaged;                            /* ... because a checksum did not match */
} integrity;

/* Reads dataset ds back in blocks of leading-dimension rows (at most 8 MiB at a time),
 * which makes HDF5 verify every chunk's checksum: 1 when read, 0 when not numeric or
 * not worth reading (more elements than stored bytes: mostly unwritten fill values, or a
 * file's claim; reading it would take time in proportion to the claim, not the file),
 * -2 when a checksum did not match, -1 when a read failed otherwise. */
static int read_back(hid_t ds, const char *path, uint64_t *digest_sum)
{
    hc_digest digest;
    digest_init(&digest, path);
    hid_t space = H5Dget_space(ds), ftype = H5Dget_type(ds), mtype = -1, mspace = -1;
    hsize_t dims[H5S_MAX_RANK], start[H5S_MAX_RANK] = {0}, count[H5S_MAX_RANK];
    int rank = space < 0 ? -1 : H5Sget_simple_extent_dims(space, dims, NULL);
    herr_t rc = rank < 0 || ftype < 0 ? -1 : 0;
    H5T_class_t cls = ftype < 0 ? H5T_NO_CLASS : H5Tget_class(ftype);
    if (rc < 0 || rank == 0 || (cls != H5T_FLOAT && cls != H5T_INTEGER)) goto done;
    hsize_t stored = H5Dget_storage_size(ds), elements = 1;   /* saturates past stored */
    for (int i = 0; i < rank; i++)
        elements = dims[i] && elements > stored / dims[i] ? stored + 1 : elements * dims[i];
    if (elements > stored) goto done;
    const size_t block = (size_t)8 << 20;
    /* values as the file holds them, which is what a digest is of (digest.h) */
    mtype = H5Tget_native_type(ftype, H5T_DIR_ASCEND);
    size_t row = mtype < 0 ? 0 : H5Tget_size(mtype);
    for (int i = 1; i < rank && row <= block; i++) row *= dims[i];
    if (row == 0 || row > block) goto done;
    hsize_t rows = block / row;
    void *buf = malloc(rows * row);
    if (!buf || mtype < 0) {
        free(buf);
        rc = -1;
        goto done;
    }
    for (int i = 1; i < rank; i++) count[i] = dims[i];
    for (hsize_t r = 0; r < dims[0] && rc >= 0; r += rows) {
        start[0] = r;
        count[0] = dims[0] - r < rows ? dims[0] - r : rows;
        h5_close(mspace);
        mspace = H5Screate_simple(rank, count, NULL);
        if (mspace < 0 || H5Sselect_hyperslab(space, H5S_SELECT_SET, start, NULL, count, NULL) < 0 ||
            H5Dread(ds, mtype, mspace, space, H5P_DEFAULT, buf) < 0)
            rc = h5_checksum_failed() ? -2 : -1;
        else if (digest_sum)
            digest_bytes(&digest, buf, count[0] * row);
    }
    free(buf);
    if (rc == 0) rc = 1;
    if (rc == 1 && digest_sum) *digest_sum += digest_value(&digest);
done:
    h5_close(mspace);
    h5_close(mtype);
    h5_close(ftype);
    h5_close(space);
    return rc;
}

/* Whether HDF5 has every filter of dcpl: a dataset stored with one it lacks (a plugin,
 * never loaded: h5_quiet) cannot be read, which says nothing about damage. */
static int filters_available(hid_t dcpl)
{
    int n = H5Pget_nfilters(dcpl);
    for (int i = 0; i < n; i++) {
        unsigned flags, config;
        size_t n_values = 0;
        H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)i, &flags, &n_values, NULL, 0, NULL, &config);
        if (id < 0 || H5Zfilter_avail(id) <= 0) return 0;
    }
    return n >= 0;
}

static herr_t verify_dataset(hid_t obj, const char *path, void *data)
{
    integrity *g = data;
    if (H5Iget_type(obj) != H5I_DATASET || g->failed[0]) return 0;
    hid_t dcpl = H5Dget_create_plist(obj), ds = -1;
    int ours = dcpl < 0 ? 0 : H5Pget_nfilters(dcpl) == 1 && h5_filters_are_ours(dcpl) == 1;
    /* raw data in other files (external, virtual) is not this file's: never read (a FIFO
     * named there would block), as data behind a filter HDF5 lacks cannot be */
    int readable = dcpl >= 0 && filters_available(dcpl) && H5Pget_external_count(dcpl) == 0 &&
                   H5Pget_layout(dcpl) != H5D_VIRTUAL;
    if (readable) ds = H5Dopen2(obj, ".", H5P_DEFAULT);   /* read_back's own id */
    h5_close(dcpl);
    uint64_t *digest = !strncmp(path, "model/", 6) ? &g->model
                       : !strncmp(path, "state/", 6) ? &g->state : NULL;
    char abs_path[NAME_BUF + 1];
    snprintf(abs_path, sizeof abs_path, "/%s", path);
    int read = !readable ? 0 : ds < 0 ? -1 : read_back(ds, abs_path, digest);
    /* a column (1-D, unlimited) has its rows in chunks from the first on */
    hsize_t rows = 0, max_rows = 0;
    hid_t space = read >= 0 && ds >= 0 ? H5Dget_space(ds) : -1;
    if (space >= 0 && H5Sget_simple_extent_ndims(space) == 1 &&
        H5Sget_simple_extent_dims(space, &rows, &max_rows) == 1 && max_rows == H5S_UNLIMITED &&
        h5_column_chunks_check(ds, rows, &g->chunks) != 0)
        g->bad_index = 1;       /* an index that cannot be read is as damaged */
    h5_close(space);
    h5_close(ds);
    if (g->bad_index) {
        snprintf(g->failed, sizeof g->failed, "/%s", path);
        return 0;
    }
    if (read < 0) {
        g->damaged = read == -2;
        snprintf(g->failed, sizeof g->failed, "/%s", path);
        return 0;
    }
    g->datasets++;
    g->read += (unsigned long long)read;
    g->checked += (unsigned long long)(read && ours);
    return 0;
}

/* The last section: a damaged file is an error (exit 1), so a script can test a file.
 * A file a run is writing (the metrics file of a running training holds its lock) is not
 * read back: a chunk read while it is appended to would look damaged. */
static int verify(hid_t root, const char *path, FILE *out, hc_err *e)
{
    char holder[320];
    if (file_lock_held(path, holder, sizeof holder)) {
        fprintf(out, "integrity: not checked: a run is writing the file (host and PID %s hold "
                "its lock)\n", holder);
        return HC_OK;
    }
    integrity g = {0, 0, 0, {NULL, 0, 0}, 0, 0, 0, "", 0};
    int rc = walk(root, "", 0, verify_dataset, &g), repeat = h5_chunk_addrs_repeat(&g.chunks);
    h5_chunk_addrs_free(&g.chunks);
    if (rc < 0)
        return hc_fail(e, HC_ERR_RUNTIME, "info %s: cannot list its datasets (%s)", path,
                       why_unreadable());
    if (g.failed[0])
        return hc_fail(e, HC_ERR_RUNTIME, "info %s: %s: %s", path, g.failed,
                       g.bad_index ? "its chunk index is damaged (it does not list its rows "
                                     "once each, or cannot be read)"
                       : g.damaged ? H5_DAMAGED : "cannot be read back (damaged, or being written?)");
    if (repeat)
        return hc_fail(e, HC_ERR_RUNTIME, "info %s: the chunk indexes are damaged (two datasets "
                       "name the same data on disk)", path);
    /* the digests written with the arrays (digest.h): "model" on /model, "state_digest" on
     * the root */
    const struct { const char *group, *attr, *what; const uint64_t *sum; } digests[] = {
        {"model", "digest", "/model", &g.model}, {"/", "state_digest", "/state", &g.state}};
    int digested = 0;
    for (size_t i = 0; i < sizeof digests / sizeof *digests; i++) {
        char *stored = NULL, got[HC_DIGEST_TEXT];
        hid_t obj = h5_path_exists(root, digests[i].group) > 0 || !strcmp(digests[i].group, "/")
                        ? H5Oopen(root, digests[i].group, H5P_DEFAULT) : -1;
        if (obj >= 0 && H5Aexists(obj, digests[i].attr) > 0 &&
            !h5_get_string(obj, digests[i].attr, &stored)) {
            digest_text(*digests[i].sum, got);
            digested++;
            if (strcmp(stored, got))
                hc_fail(e, HC_ERR_RUNTIME, "info %s: %s does not match its digest (%s, the arrays "
                        "read give %s): the file is damaged (parts of another file?)", path,
                        digests[i].what, stored, got);
        }
        free(stored);
        h5_close(obj);
        if (e->code) return e->code;
    }
    if (g.checked == g.datasets)
        fprintf(out, "integrity: all %llu datasets read back, each under a checksum that "
                "matches%s\n", g.datasets, digested == 2 ? "; /model and /state match their "
                "digests" : digested ? "; /model matches its digest" : "");
    else
        fprintf(out, "integrity: %llu of %llu datasets read back; %llu under a checksum%s\n",
                g.read, g.datasets, g.checked, g.checked ? ", matching" : " (a file of an "
                "older hyperclip, or not of hyperclip)");
    return HC_OK;
}

/* ---- the file as a whole ---- */

static const char *kind_words(hid_t root)
{
    int model = h5_path_exists(root, "model") > 0;
    if (model && (H5Aexists(root, "format") > 0 || h5_path_exists(root, "state") > 0))
        return "a checkpoint (model weights and training state, for --resume and eval)";
    if (h5_path_exists(root, "steps") > 0)
        return "a metrics file (the per-step and per-epoch record of a training run)";
    if (model) return "a weights file (model parameters only, for --init)";
    return "an HDF5 file with no hyperclip model or metrics";
}

/* Each section says which part failed if the file turns out damaged (or is being
 * written as we read it). */
static int describe(hid_t root, const char *path, FILE *out, hc_err *e)
{
    static const struct {
        const char *name;
        herr_t (*fn)(hid_t, FILE *);
    } sections[] = {{"model", describe_model}, {"steps", describe_steps},
                    {"epochs", describe_epochs}};
    static const char *const described[] = {"model", "steps", "epochs"};
    fprintf(out, "%s: %s\n", path, kind_words(root));
    if (print_attrs(root, out, "attributes:\n", "  ") < 0)
        return hc_fail(e, HC_ERR_RUNTIME, "info %s: cannot read the root attributes (%s)", path,
                       why_unreadable());
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++)
        if (h5_path_exists(root, sections[i].name) > 0 && sections[i].fn(root, out) < 0)
            return hc_fail(e, HC_ERR_RUNTIME, "info %s: cannot read /%s (%s)", path,
                           sections[i].name, why_unreadable());
    for (size_t i = 0; i < sizeof described / sizeof *described; i++)
        if (h5_path_exists(root, described[i]) > 0) {
            if (describe_kinds(root, out) < 0)
                return hc_fail(e, HC_ERR_RUNTIME, "info %s: cannot read the datasets' "
                               "descriptions", path);
            break;
        }
    other_printer others = {out, 0};
    if (iterate_links(root, print_other_child, &others) < 0)
        return hc_fail(e, HC_ERR_RUNTIME, "info %s: cannot read its contents (%s)", path,
                       why_unreadable());
    return HC_OK;
}

/* Copies text to out with every control character but the newline shown as '?': a
 * file's strings and names never reach the terminal as escape sequences (C1 controls,
 * U+0080..U+009F, included). */
static void put_clean(FILE *out, const char *text, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == 0xc2 && i + 1 < n && (unsigned char)text[i + 1] >= 0x80 &&
            (unsigned char)text[i + 1] <= 0x9f) {
            fputc('?', out);
            i++;
        } else {
            fputc((c < 0x20 && c != '\n') || c == 0x7f ? '?' : c, out);
        }
    }
}

int info_run(const char *path, FILE *out, hc_err *e)
{
    /* stat first: a FIFO or a device would block HDF5, a directory confuse it */
    if (file_check_input(path, "info", e)) return e->code;
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (!mem) return hc_fail(e, HC_ERR_RUNTIME, "info: out of memory");

    h5_quiet_state q = h5_quiet();
    int rc = HC_OK;
    hid_t file = -1, root = -1;
    if (H5Fis_hdf5(path) <= 0)
        rc = hc_fail(e, HC_ERR_RUNTIME, "info %s is not an HDF5 file", path);
    /* a chunk cache that holds a whole chunk of up to 1 GiB (a checkpoint stores each
     * array as one chunk): read_back's slices then take their parts of it from the
     * cache, instead of HDF5 reading and checksumming the whole chunk for each slice */
    else if ((file = h5_open_readonly_cache(path, (size_t)1 << 30)) < 0)
        rc = hc_fail(e, HC_ERR_RUNTIME, "info %s: cannot open the HDF5 file", path);
    else if ((root = H5Gopen2(file, "/", H5P_DEFAULT)) < 0)
        rc = hc_fail(e, HC_ERR_RUNTIME, "info %s: cannot open its root group", path);
    else if ((rc = describe(root, path, mem, e)) == HC_OK)
        rc = verify(root, path, mem, e);
    h5_close(root);
    h5_close(file);
    h5_restore(q);
    fclose(mem);
    put_clean(out, text, len);
    free(text);
    return rc;
}
