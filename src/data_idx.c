/* data_idx.c - MNIST / Fashion-MNIST IDX files, read through zlib.
 *
 * gzopen/gzread read gzipped and plain files alike, so there is one code path.
 * The header is checked against fixed limits before anything is allocated, and
 * the data buffer then grows only as bytes actually arrive: a tiny file whose
 * header claims a huge (but allowed) count fails as truncated after one small
 * allocation instead of reserving gigabytes first. */
#include "data_idx.h"
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define IDX_MAGIC_IMAGES 0x00000803u
#define IDX_MAGIC_LABELS 0x00000801u
#define IDX_MAX_N 100000000ull           /* more samples than this is not a real file */
#define IDX_MAX_SAMPLE (1ull << 20)      /* pixels per image */
#define IDX_FIRST_ALLOC ((uint64_t)1 << 24)
#define IDX_MAX_READ (1u << 30)          /* gzread takes an unsigned, returns an int */
#define IDX_N_CLASSES 10
#define IDX_PATH 4096

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int open_idx(const char *file, gzFile *g, hc_err *e)
{
    errno = 0;
    *g = gzopen(file, "rb");
    if (*g) {
        gzbuffer(*g, 1u << 18);
        return 0;
    }
    if (errno == ENOENT) return hc_fail(e, HC_ERR_RUNTIME, "no such file: %s", file);
    return hc_fail(e, HC_ERR_RUNTIME, "cannot open %s: %s", file,
                   errno ? strerror(errno) : "out of memory");
}


/* True when the last short read was caused by a gzip stream that ends early. */
static int gz_cut_short(gzFile g)
{
    int errnum = 0;
    gzerror(g, &errnum);
    return errnum == Z_BUF_ERROR;
}

/* Reads up to len bytes, stopping early only at end of file; -1 on a read error. */
static int64_t read_upto(gzFile g, unsigned char *buf, uint64_t len)
{
    uint64_t got = 0;
    while (got < len) {
        uint64_t left = len - got;
        int r = gzread(g, buf + got, (unsigned)(left < IDX_MAX_READ ? left : IDX_MAX_READ));
        if (r < 0) return -1;
        if (r == 0) break;
        got += (uint64_t)r;
    }
    return (int64_t)got;
}

/* Reads a header of len bytes whose first 4 are `magic`. */
static int read_header(gzFile g, const char *file, uint32_t magic, unsigned char *hdr,
                       size_t len, hc_err *e)
{
    int64_t got = read_upto(g, hdr, len);
    if (got < 0) return dataset_gz_failure(g, file, e);
    if (got >= 4 && be32(hdr) != magic) {
        int images = magic == IDX_MAGIC_IMAGES;
        uint32_t other = images ? IDX_MAGIC_LABELS : IDX_MAGIC_IMAGES;
        return hc_fail(e, HC_ERR_RUNTIME, "%s: bad magic 0x%08" PRIx32 ", expected 0x%08" PRIx32
                       " (idx%d-ubyte %s)%s", file, be32(hdr), magic, images ? 3 : 1,
                       images ? "images" : "labels",
                       be32(hdr) == other ? "; is this the wrong kind of IDX file?" : "");
    }
    if ((uint64_t)got < len)
        return hc_fail(e, HC_ERR_RUNTIME, "%s: truncated header: expected %zu bytes, got %" PRId64,
                       file, len, got);
    return 0;
}

/* Grows *buf (capacity *cap) towards `want` bytes, doubling; 0 or -1. */
static int grow(unsigned char **buf, uint64_t *cap, uint64_t want)
{
    uint64_t next = *cap ? *cap * 2 : IDX_FIRST_ALLOC;
    if (next > want) next = want;
    if (next > SIZE_MAX) return -1;
    unsigned char *p = realloc(*buf, (size_t)next);
    if (!p) return -1;
    *buf = p;
    *cap = next;
    return 0;
}

/* Reads the `count` items of `item_size` bytes that follow the header. */
static int read_payload(gzFile g, const char *file, uint64_t count, uint64_t item_size,
                        const char *items, unsigned char **out, hc_err *e)
{
    uint64_t want = count * item_size, got = 0, cap = 0;
    unsigned char *buf = NULL;
    *out = NULL;
    while (got < want) {
        if (got == cap && grow(&buf, &cap, want)) {
            free(buf);
            return hc_fail(e, HC_ERR_RUNTIME, "%s: out of memory for %" PRIu64 " bytes of data",
                           file, want);
        }
        int64_t r = read_upto(g, buf + got, cap - got);
        if (r < 0) {
            free(buf);
            return dataset_gz_failure(g, file, e);
        }
        got += (uint64_t)r;
        if (got < cap) break;   /* end of file before the buffer filled */
    }
    if (got < want) {
        int cut = gz_cut_short(g);
        free(buf);
        return hc_fail(e, HC_ERR_RUNTIME, "%s: truncated data: header claims %" PRIu64 " %s (%"
                       PRIu64 " bytes), got %" PRIu64 " bytes%s", file, count, items, want, got,
                       cut ? " (gzip stream ends early)" : "");
    }
    *out = buf;
    return 0;
}

/* After the data there must be nothing; reading on also makes zlib check the CRC. */
static int check_end(gzFile g, const char *file, uint64_t data_bytes, hc_err *e)
{
    unsigned char tmp[4096];
    uint64_t extra = 0;
    int r;
    while ((r = gzread(g, tmp, sizeof tmp)) > 0) extra += (uint64_t)r;
    if (r < 0) return dataset_gz_failure(g, file, e);
    if (extra)
        return hc_fail(e, HC_ERR_RUNTIME, "%s: %" PRIu64 " trailing bytes after the %" PRIu64
                       " bytes of data the header claims", file, extra, data_bytes);
    if (gz_cut_short(g))
        return hc_fail(e, HC_ERR_RUNTIME, "%s: truncated gzip stream (no end-of-stream trailer)",
                       file);
    return 0;
}

static int check_count(const char *file, uint32_t n, const char *items, hc_err *e)
{
    if (n == 0) return hc_fail(e, HC_ERR_RUNTIME, "%s: zero %s in header", file, items);
    if (n > IDX_MAX_N)
        return hc_fail(e, HC_ERR_RUNTIME, "%s: absurd %s count %" PRIu32 " in header (limit %llu)",
                       file, items, n, IDX_MAX_N);
    return 0;
}

static int check_image_dims(const char *file, uint32_t n, uint32_t rows, uint32_t cols, hc_err *e)
{
    if (rows == 0 || cols == 0)
        return hc_fail(e, HC_ERR_RUNTIME, "%s: zero dimension in header (n=%" PRIu32 ", rows=%"
                       PRIu32 ", cols=%" PRIu32 ")", file, n, rows, cols);
    if ((uint64_t)rows * cols > IDX_MAX_SAMPLE)
        return hc_fail(e, HC_ERR_RUNTIME, "%s: absurd image size %" PRIu32 "x%" PRIu32
                       " in header (limit %llu pixels)", file, rows, cols, IDX_MAX_SAMPLE);
    return check_count(file, n, "image", e);
}

int idx_read_images(const char *file, uint8_t **pixels, int *n, int *rows, int *cols, hc_err *e)
{
    unsigned char h[16], *data = NULL;
    uint32_t hn = 0, hr = 0, hc = 0;
    gzFile g;
    *pixels = NULL;
    *n = *rows = *cols = 0;
    int rc = open_idx(file, &g, e);
    if (rc) return rc;
    rc = read_header(g, file, IDX_MAGIC_IMAGES, h, sizeof h, e);
    if (!rc) {
        hn = be32(h + 4), hr = be32(h + 8), hc = be32(h + 12);
        rc = check_image_dims(file, hn, hr, hc, e);
    }
    if (!rc) rc = read_payload(g, file, hn, (uint64_t)hr * hc, "images", &data, e);
    if (!rc) rc = check_end(g, file, (uint64_t)hn * hr * hc, e);
    gzclose(g);
    if (rc) {
        free(data);
        return rc;
    }
    /* The limits above make every value fit an int. */
    *pixels = data;
    *n = (int)hn, *rows = (int)hr, *cols = (int)hc;
    return 0;
}

static int check_labels(const char *file, const uint8_t *labels, uint32_t n, int n_classes,
                        hc_err *e)
{
    for (uint32_t i = 0; i < n; i++)
        if (labels[i] >= n_classes)
            return hc_fail(e, HC_ERR_RUNTIME, "%s: label at index %" PRIu32 " is %u, must be < %d",
                           file, i, labels[i], n_classes);
    return 0;
}

int idx_read_labels(const char *file, int n_classes, uint8_t **labels, int *n, hc_err *e)
{
    unsigned char h[8], *data = NULL;
    uint32_t hn = 0;
    gzFile g;
    *labels = NULL;
    *n = 0;
    int rc = open_idx(file, &g, e);
    if (rc) return rc;
    rc = read_header(g, file, IDX_MAGIC_LABELS, h, sizeof h, e);
    if (!rc) {
        hn = be32(h + 4);
        rc = check_count(file, hn, "label", e);
    }
    if (!rc) rc = read_payload(g, file, hn, 1, "labels", &data, e);
    if (!rc) rc = check_end(g, file, hn, e);
    gzclose(g);
    if (!rc) rc = check_labels(file, data, hn, n_classes, e);
    if (rc) {
        free(data);
        return rc;
    }
    *labels = data;
    *n = (int)hn;
    return 0;
}

/* Reads one split (images + labels) and checks the two files agree on the count. */
static int load_split(const char *dir, const char *img_name, const char *lbl_name,
                      hc_split *s, int *rows, int *cols, hc_err *e)
{
    char img[IDX_PATH], lbl[IDX_PATH];
    int n_img = 0, n_lbl = 0;
    int rc = dataset_find_file(dir, img_name, "", img, sizeof img, e);
    if (!rc) rc = dataset_find_file(dir, lbl_name, "", lbl, sizeof lbl, e);
    if (!rc) rc = idx_read_images(img, &s->pixels, &n_img, rows, cols, e);
    if (!rc) rc = idx_read_labels(lbl, IDX_N_CLASSES, &s->labels, &n_lbl, e);
    if (!rc && n_img != n_lbl)
        rc = hc_fail(e, HC_ERR_RUNTIME, "%s has %d images but %s has %d labels",
                     img, n_img, lbl, n_lbl);
    s->n = n_img;
    return rc;
}


int data_idx_load(hc_dataset *ds, const char *dir, hc_err *e)
{
    hc_split train = {0}, test = {0};
    int tr_rows = 0, tr_cols = 0, te_rows = 0, te_cols = 0;
    int rc = load_split(dir, "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                        &train, &tr_rows, &tr_cols, e);
    if (!rc)
        rc = load_split(dir, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
                        &test, &te_rows, &te_cols, e);
    if (!rc && (tr_rows != te_rows || tr_cols != te_cols))
        rc = hc_fail(e, HC_ERR_RUNTIME, "image size differs in %s: train images are %dx%d, "
                     "t10k (test) images are %dx%d", dir, tr_rows, tr_cols, te_rows, te_cols);
    if (rc) {
        dataset_free_split(&train);
        dataset_free_split(&test);
        return rc;
    }
    if (!ds->name[0]) snprintf(ds->name, sizeof ds->name, "mnist");
    ds->channels = 1;
    ds->height = tr_rows;
    ds->width = tr_cols;
    ds->sample_size = tr_rows * tr_cols;
    ds->n_classes = IDX_N_CLASSES;
    ds->train = train;
    ds->test = test;
    return 0;
}

/* strcasestr is a GNU extension; this keeps the file portable. */
static int contains_nocase(const char *haystack, const char *needle)
{
    size_t n = strlen(needle);
    for (; *haystack; haystack++) {
        size_t i = 0;
        while (i < n && tolower((unsigned char)haystack[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n) return 1;
    }
    return 0;
}

/* The two data sets share the format: the folder's name tells them apart. */
static const char *idx_infer_name(const char *dir)
{
    return contains_nocase(dir, "fashion") ? "fashion-mnist" : "mnist";
}

const hc_data_format data_idx = {
    .format = "idx", .names = {"mnist", "fashion-mnist", NULL},
    .about = "IDX files {train,t10k}-*-ubyte[.gz]",
    .normalization = "unit", .detect = NULL, .infer_name = idx_infer_name,
    .load = data_idx_load};
