/* data_norm.c - the pixel lookup table: how a data set's bytes become inputs
 * (--normalize unit | train-stats | authors). */
#include "data_family.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

const double hc_authors_mean[3] = {0.474, 0.473, 0.473};
const double hc_authors_std[3] = {0.252, 0.252, 0.251};

void dataset_set_unit_scale(hc_dataset *ds)
{
    for (int c = 0; c < 3; c++)
        for (int p = 0; p < 256; p++) ds->lut[c][p] = (hc_real)p / (hc_real)255;
    snprintf(ds->normalization, sizeof ds->normalization, "pixel/255");
}

void dataset_set_channel_norm(hc_dataset *ds, const double mean[3], const double std[3],
                              const char *label)
{
    for (int c = 0; c < 3; c++) {
        double s = std[c] > 0 ? std[c] : 1.0;   /* a constant channel is only centred */
        for (int p = 0; p < 256; p++) ds->lut[c][p] = (hc_real)(((double)p / 255.0 - mean[c]) / s);
    }
    int nc = ds->channels >= 1 && ds->channels <= 3 ? ds->channels : 3;
    char m[40] = "", s[40] = "";
    size_t lm = 0, ls = 0;
    for (int c = 0; c < nc; c++) {
        lm += (size_t)snprintf(m + lm, sizeof m - lm, "%s%.4g", c ? "/" : "", mean[c]);
        ls += (size_t)snprintf(s + ls, sizeof s - ls, "%s%.4g", c ? "/" : "", std[c]);
        if (lm >= sizeof m || ls >= sizeof s) break;   /* cannot happen with %.4g */
    }
    snprintf(ds->normalization, sizeof ds->normalization, "%s mean=%s std=%s", label, m, s);
}

void dataset_train_channel_stats(const hc_dataset *ds, double mean[3], double std[3])
{
    int nc = ds->channels >= 1 && ds->channels <= 3 ? ds->channels : 1;
    size_t plane = (size_t)ds->height * (size_t)ds->width;
    for (int c = 0; c < 3; c++) mean[c] = 0.0, std[c] = 1.0;
    if (ds->train.n < 1 || plane == 0) return;
    /* a histogram per channel: exact sums in any order, one pass over the bytes */
    uint64_t hist[3][256];
    memset(hist, 0, sizeof hist);
    for (int i = 0; i < ds->train.n; i++) {
        const uint8_t *px = ds->train.pixels + (size_t)i * (size_t)ds->sample_size;
        for (int c = 0; c < nc; c++) {
            uint64_t *h = hist[c];
            const uint8_t *q = px + (size_t)c * plane;
            for (size_t j = 0; j < plane; j++) h[q[j]]++;
        }
    }
    double count = (double)ds->train.n * (double)plane;
    for (int c = 0; c < nc; c++) {
        double sum = 0.0, sq = 0.0;
        for (int p = 0; p < 256; p++) sum += (double)hist[c][p] * (p / 255.0);
        mean[c] = sum / count;
        for (int p = 0; p < 256; p++) {
            double d = p / 255.0 - mean[c];
            sq += (double)hist[c][p] * d * d;
        }
        std[c] = sqrt(sq / count);     /* population std, like torch.std(unbiased=False) */
    }
    for (int c = nc; c < 3; c++) mean[c] = mean[nc - 1], std[c] = std[nc - 1];
}

int dataset_check_normalization(const char *mode, hc_err *e)
{
    static const char *const words[] = {"train-stats", "authors", "unit"};
    for (size_t i = 0; mode && i < sizeof words / sizeof *words; i++)
        if (!strcmp(mode, words[i])) return 0;
    if (!mode) return 0;
    return hc_fail(e, HC_ERR_USAGE, "unknown --normalize '%s' (expected train-stats, "
                   "authors or unit)", mode);
}

int dataset_set_normalization(hc_dataset *ds, const char *mode, hc_err *e)
{
    if (dataset_check_normalization(mode, e)) return e->code;
    if (!mode || !strcmp(mode, "unit")) {
        dataset_set_unit_scale(ds);
    } else if (!strcmp(mode, "train-stats")) {
        double mean[3], std[3];
        dataset_train_channel_stats(ds, mean, std);
        dataset_set_channel_norm(ds, mean, std, "train-stats");
    } else {                            /* authors */
        if (ds->channels != 3)
            return hc_fail(e, HC_ERR_USAGE, "--normalize authors: the authors' constants are "
                           "CIFAR-10's, for 3 channels; %s has %d", ds->name, ds->channels);
        dataset_set_channel_norm(ds, hc_authors_mean, hc_authors_std, "authors");
    }
    return 0;
}
