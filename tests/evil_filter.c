/* evil_filter.c - an HDF5 dynamically loaded filter plugin that records that it was
 * loaded: the stand-in for the arbitrary code a crafted HDF5 file could make a reader
 * run through HDF5_PLUGIN_PATH. tests/plugins.sh compiles it at run time:
 *   cc -shared -fPIC $(pkg-config --cflags hdf5-openmpi) -o DIR/libhc_evil_filter.so evil_filter.c
 * (HDF5 1.10 loads only files named lib*.so* from the plugin folders.)
 *
 * It is a valid plugin: H5PLget_plugin_type / H5PLget_plugin_info describe an identity
 * filter with the unregistered id HC_EVIL_FILTER_ID (tests/h5refilter.c registers the
 * same filter in-process to write files that name it). When the dynamic loader maps it
 * (a constructor: code runs before HDF5 even asks what the plugin is) and when HDF5
 * asks for its filter, it appends a line to the file named by $HC_PLUGIN_MARKER.
 * It links nothing: it uses HDF5's headers only, so any HDF5 1.10 reader (the serial
 * h5dump as well as the MPI build hyperclip links) can load it. */
#include <H5PLextern.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HC_EVIL_FILTER_ID 32123

static void mark(const char *what)
{
    const char *path = getenv("HC_PLUGIN_MARKER");
    char line[256];
    if (!path || !*path) return;
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0) return;
    int n = snprintf(line, sizeof line, "evil_filter: %s (pid %ld)\n", what, (long)getpid());
    if (n > 0 && write(fd, line, strlen(line)) < 0) n = 0;
    close(fd);
}

__attribute__((constructor)) static void on_load(void) { mark("loaded"); }

static size_t identity(unsigned int flags, size_t cd_nelmts, const unsigned int cd_values[],
                       size_t nbytes, size_t *buf_size, void **buf)
{
    (void)flags, (void)cd_nelmts, (void)cd_values, (void)buf_size, (void)buf;
    return nbytes;
}

static const H5Z_class2_t evil_class = {
    H5Z_CLASS_T_VERS,     /* version of this struct */
    HC_EVIL_FILTER_ID,    /* filter id */
    1,                    /* encoder present */
    1,                    /* decoder present */
    "hyperclip test filter (identity)",
    NULL,                 /* can_apply */
    NULL,                 /* set_local */
    identity,
};

H5PL_type_t H5PLget_plugin_type(void) { return H5PL_TYPE_FILTER; }

const void *H5PLget_plugin_info(void)
{
    mark("asked for its filter");
    return &evil_class;
}
