/*
 * hdf5_scan.c - HDF5 files, as Keras 2 (`model.save("m.h5")`) writes them.
 *
 *   [user block: 0, 512, 1024, 2048 ... bytes]
 *   superblock  "\x89HDF\r\n\x1a\n", version, offset/length sizes, root
 *               group object header address
 *   root group object header
 *     attribute  model_config     JSON text: the model architecture
 *     attribute  training_config  JSON text: loss, metrics, optimizer
 *     attribute  keras_version, backend
 *     link       model_weights/<layer>/<weights>   (datasets)
 *     link       optimizer_weights/...
 *   B-trees, local and fractal heaps, raw data: addressed from the headers
 *
 * Specification: HDF5 File Format Specification Version 3.0,
 * https://docs.hdfgroup.org/hdf5/develop/_f_m_t3.html . What Keras stores:
 * keras/src/legacy/saving/legacy_h5_format.py (save_model_to_hdf5 writes
 * each config with json.dumps(...).encode("utf8"), which h5py stores as a
 * fixed-length string; a str becomes a variable-length string).
 *
 * Read with libhdf5 (Debian libhdf5-dev), not by hand: attributes can sit in
 * compact object-header messages, continuation blocks or dense storage
 * (fractal heaps and B-trees) across four superblock versions, and only
 * libhdf5 reads all of it the way h5py does. libhdf5 was not written for
 * hostile input, so it runs in a child process: the same executable started
 * again through /proc/self/exe with posix_spawn (an ELF constructor below
 * takes over before main()). Not a bare fork(): the scan has worker threads,
 * and a forked child inherits the locks they held at that instant; an
 * exec'd child starts clean. The file reaches the child as a descriptor (the
 * scanned file itself, or a sealed memfd copy of a decompressed member) that
 * it maps read-only. In the child: no core dumps, CPU and address-space
 * limits, an alarm, no plugins, the file opened from the in-memory image (no
 * file is opened by name), every descriptor but the pipe closed. The child
 * writes length-prefixed records to a pipe; the parent reads them with a
 * size cap and a deadline, kills the child when either is exceeded and reaps
 * it. Whatever goes wrong in the child is a finding (HDF5-PARSER-FAILURE),
 * never a crash of the scanner.
 */
#define _GNU_SOURCE
#include "hdf5_scan.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hdf5.h>

#include "../../core/limits.h"
#include "../../util/cursor.h"
#include "../../util/strbuf.h"
#include "keras_config.h"

extern char **environ;

#if defined(__SANITIZE_ADDRESS__)
#define HDF5_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HDF5_UNDER_ASAN 1
#endif
#endif

enum {
    NATTRS = 4,
    ATTR_CAP = (int)(MS_DEFAULT_KERAS_CONFIG_MAX_BYTES + 1), /* one byte over: "too large" */
    REASON_CAP = 1024,
};

/* the root attributes read, in the order reported */
static const char *const attr_names[NATTRS] = {"model_config", "training_config", "keras_version",
                                               "backend"};

/* ---- the child -------------------------------------------------------- */

static bool write_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t k = write(fd, b, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return false;
        b += k;
        n -= (size_t)k;
    }
    return true;
}

bool hdf5_child_record(int fd, char tag, const char *name, const void *value, size_t len)
{
    size_t nlen = strlen(name);
    uint8_t hdr[5];
    hdr[0] = (uint8_t)tag;
    for (int i = 0; i < 4; i++)
        hdr[1 + i] = (uint8_t)(nlen >> (8 * i));
    uint8_t lenbuf[8];
    for (int i = 0; i < 8; i++)
        lenbuf[i] = (uint8_t)((uint64_t)len >> (8 * i));
    return write_all(fd, hdr, sizeof(hdr)) && write_all(fd, name, nlen) &&
           write_all(fd, lenbuf, sizeof(lenbuf)) && (len == 0 || write_all(fd, value, len));
}

static void child_text(int fd, char tag, const char *name, const char *text)
{
    (void)hdf5_child_record(fd, tag, name, text, strlen(text));
}

/* libhdf5's innermost error description, for the reason of a failure */
static herr_t last_error_cb(unsigned n, const H5E_error2_t *e, void *ud)
{
    (void)n;
    char *out = ud;
    if (e && e->desc && e->desc[0])
        snprintf(out, REASON_CAP / 2, "%s", e->desc);
    return 0;
}

static void child_error(int fd, char tag, const char *name, const char *what)
{
    char inner[REASON_CAP / 2] = "";
    char msg[REASON_CAP];
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, last_error_cb, inner);
    snprintf(msg, sizeof(msg), "%s%s%s", what, inner[0] ? ": " : "", inner);
    child_text(fd, tag, name, msg);
}

/* The file image stays where it is: the callbacks hand libhdf5 the caller's
 * buffer instead of a copy (read-only open, so it is never written). */
typedef struct image_ud {
    const void *image;
    size_t size;
} image_ud;

static void *image_malloc(size_t size, H5FD_file_image_op_t op, void *ud)
{
    (void)op;
    image_ud *u = ud;
    return size == u->size ? (void *)(uintptr_t)u->image : NULL;
}

static void *image_memcpy(void *dest, const void *src, size_t size, H5FD_file_image_op_t op,
                          void *ud)
{
    (void)size;
    (void)op;
    (void)ud;
    return dest == src ? dest : NULL;
}

static void *image_realloc(void *ptr, size_t size, H5FD_file_image_op_t op, void *ud)
{
    (void)ptr;
    (void)size;
    (void)op;
    (void)ud;
    return NULL;
}

static herr_t image_free(void *ptr, H5FD_file_image_op_t op, void *ud)
{
    (void)ptr;
    (void)op;
    (void)ud;
    return 0;
}

static void *image_udata_copy(void *ud)
{
    return ud;
}

static herr_t image_udata_free(void *ud)
{
    (void)ud;
    return 0;
}

static void child_read_attr(int fd, hid_t file, const char *name)
{
    char reason[REASON_CAP];
    htri_t exists = H5Aexists(file, name);
    if (exists == 0)
        return;
    if (exists < 0) {
        child_error(fd, 'X', name, "the attribute could not be looked up");
        return;
    }
    hid_t attr = H5Aopen(file, name, H5P_DEFAULT);
    hid_t type = attr >= 0 ? H5Aget_type(attr) : -1;
    hid_t space = attr >= 0 ? H5Aget_space(attr) : -1;
    if (attr < 0 || type < 0 || space < 0) {
        child_error(fd, 'X', name, "the attribute could not be opened");
        return;
    }
    hssize_t npoints = H5Sget_simple_extent_npoints(space);
    H5T_class_t cls = H5Tget_class(type);
    if (cls != H5T_STRING) {
        snprintf(reason, sizeof(reason), "it is not a string (HDF5 type class %d)", (int)cls);
        child_text(fd, 'X', name, reason);
        return;
    }
    if (npoints != 1) {
        snprintf(reason, sizeof(reason), "it holds %lld strings, not one", (long long)npoints);
        child_text(fd, 'X', name, reason);
        return;
    }
    if (H5Tis_variable_str(type) > 0) {
        hid_t mem = H5Tcopy(H5T_C_S1);
        char *text = NULL;
        if (mem < 0 || H5Tset_size(mem, H5T_VARIABLE) < 0 ||
            H5Tset_cset(mem, H5Tget_cset(type)) < 0 || H5Aread(attr, mem, &text) < 0) {
            child_error(fd, 'X', name, "the variable-length string could not be read");
            return;
        }
        size_t n = text ? strnlen(text, (size_t)ATTR_CAP) : 0;
        if (n >= (size_t)ATTR_CAP) {
            snprintf(reason, sizeof(reason), "it is larger than %llu bytes",
                     (unsigned long long)MS_DEFAULT_KERAS_CONFIG_MAX_BYTES);
            child_text(fd, 'X', name, reason);
        } else {
            (void)hdf5_child_record(fd, 'A', name, text, n);
        }
        H5free_memory(text);
        return;
    }
    size_t size = H5Tget_size(type);
    if (size == 0 || size >= (size_t)ATTR_CAP) {
        snprintf(reason, sizeof(reason), "its fixed-length string is %zu bytes (limit %llu)", size,
                 (unsigned long long)MS_DEFAULT_KERAS_CONFIG_MAX_BYTES);
        child_text(fd, 'X', name, reason);
        return;
    }
    char *buf = malloc(size);
    if (!buf || H5Aread(attr, type, buf) < 0) {
        child_error(fd, 'X', name, "the fixed-length string could not be read");
        free(buf);
        return;
    }
    size_t n = size;
    H5T_str_t pad = H5Tget_strpad(type);
    if (pad == H5T_STR_NULLTERM)
        n = strnlen(buf, size);
    else
        while (n > 0 && (buf[n - 1] == '\0' || (pad == H5T_STR_SPACEPAD && buf[n - 1] == ' ')))
            n--; /* as numpy's bytes_ drops trailing NULs */
    (void)hdf5_child_record(fd, 'A', name, buf, n);
    free(buf);
}

void hdf5_child_read_attributes(int fd, const uint8_t *data, size_t len)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    H5PLset_loading_state(0); /* never dlopen a filter plugin */
    image_ud ud = {data, len};
    H5FD_file_image_callbacks_t cb = {image_malloc, image_memcpy,     image_realloc,
                                      image_free,   image_udata_copy, image_udata_free,
                                      &ud};
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0 || H5Pset_fapl_core(fapl, 1 << 16, 0) < 0 ||
        H5Pset_file_image_callbacks(fapl, &cb) < 0 ||
        H5Pset_file_image(fapl, (void *)(uintptr_t)data, len) < 0) {
        child_error(fd, 'E', "", "libhdf5's in-memory driver could not be set up");
        return;
    }
    /* the name is only a label: with a file image nothing is opened, and a
     * name that exists would be refused */
    hid_t file = H5Fopen("/nonexistent/model-scanner-hdf5-image", H5F_ACC_RDONLY, fapl);
    if (file < 0) {
        child_error(fd, 'E', "", "libhdf5 could not open the file");
        return;
    }
    for (int i = 0; i < NATTRS; i++)
        child_read_attr(fd, file, attr_names[i]);
    (void)hdf5_child_record(fd, 'D', "", NULL, 0);
}

#ifndef HDF5_UNDER_ASAN
/* Address space in use (the image mapping included), so the limit can be
 * set relative to it. 0 when unknown. */
static uint64_t current_vm_bytes(void)
{
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    char buf[128];
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    char *end = NULL;
    unsigned long long pages = strtoull(buf, &end, 10);
    long page = sysconf(_SC_PAGESIZE);
    if (end == buf || page <= 0)
        return 0;
    return (uint64_t)pages * (uint64_t)page;
}
#endif

/* The child's side of the command line: argv[0] HELPER_ARGV0, argv[1]
 * HELPER_MAGIC, then the mode, the image's offset and length in fd 4, the
 * time limit in seconds and the scanner's process id. The records go to
 * fd 3. */
#define HELPER_ARGV0 "model-scanner-hdf5-reader"
#define HELPER_MAGIC "hdf5-reader-protocol-1"
enum { HELPER_OUT_FD = 3, HELPER_IMAGE_FD = 4 };

static const hdf5_child_mode builtin_modes[] = {
    {"attributes", hdf5_child_read_attributes},
    {NULL, NULL},
};

static hdf5_child_fn find_mode(const char *name)
{
    for (const hdf5_child_mode *m = builtin_modes; m->name; m++)
        if (strcmp(m->name, name) == 0)
            return m->fn;
    if (hdf5_test_child_modes)
        for (const hdf5_child_mode *m = hdf5_test_child_modes; m->name; m++)
            if (strcmp(m->name, name) == 0)
                return m->fn;
    return NULL;
}

static bool parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-')
        return false;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

/* Limits first, then the image, then the reader; never returns. */
static _Noreturn void helper_main(char **argv)
{
    uint64_t offset = 0, len = 0, seconds = 0, parent = 0;
    if (!parse_u64(argv[3], &offset) || !parse_u64(argv[4], &len) ||
        !parse_u64(argv[5], &seconds) || !parse_u64(argv[6], &parent) || seconds == 0 ||
        seconds > 86400 || len > SIZE_MAX || offset > UINT64_MAX - len)
        _exit(124);
    hdf5_child_fn fn = find_mode(argv[2]);
    if (!fn)
        _exit(124);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if ((uint64_t)getppid() != parent)
        _exit(125); /* the scanner is gone already (before the death signal was set) */
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    /* a fault ends the child visibly, by its signal (a sanitizer runtime
     * would otherwise have installed handlers of its own by now) */
    static const int sigs[] = {SIGSEGV, SIGBUS,  SIGFPE,  SIGILL, SIGABRT, SIGALRM,
                               SIGXCPU, SIGPIPE, SIGTERM, SIGINT, SIGHUP,  SIGSYS};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        signal(sigs[i], SIG_DFL);
    struct rlimit core = {0, 0};
    setrlimit(RLIMIT_CORE, &core);
    struct rlimit cpu = {(rlim_t)seconds, (rlim_t)seconds + 1};
    setrlimit(RLIMIT_CPU, &cpu);
    alarm((unsigned)seconds + 1);
    /* only stdin/stdout/stderr, the pipe and the image */
    if (close_range(HELPER_IMAGE_FD + 1, ~0U, 0) != 0)
        for (int i = HELPER_IMAGE_FD + 1; i < 4096; i++)
            close(i);
    const uint8_t *data = (const uint8_t *)"";
    if (len > 0) {
        long page = sysconf(_SC_PAGESIZE);
        uint64_t skew = offset % (uint64_t)(page > 0 ? page : 4096);
        if (len > SIZE_MAX - skew)
            _exit(124);
        void *m = mmap(NULL, (size_t)(len + skew), PROT_READ, MAP_PRIVATE, HELPER_IMAGE_FD,
                       (off_t)(offset - skew));
        if (m == MAP_FAILED)
            _exit(123);
        data = (const uint8_t *)m + skew;
    }
    close(HELPER_IMAGE_FD);
#ifndef HDF5_UNDER_ASAN /* ASan reserves terabytes of address space up front */
    uint64_t vm = current_vm_bytes();
    if (vm) {
        struct rlimit as = {vm + MS_DEFAULT_HDF5_CHILD_MEMORY, vm + MS_DEFAULT_HDF5_CHILD_MEMORY};
        setrlimit(RLIMIT_AS, &as);
    }
#endif
    fn(HELPER_OUT_FD, data, (size_t)len);
    _exit(0);
}

/* glibc passes an ELF constructor the program's argc, argv and envp. A
 * process started by spawn_reader() below runs the reader here, before the
 * program's own main(), whatever that program is (the scanner, a test, a
 * fuzzer): it is the same executable, run again through /proc/self/exe. */
__attribute__((constructor)) static void hdf5_helper_entry(int argc, char **argv, char **envp)
{
    (void)envp;
    if (argc == 7 && argv && argv[0] && strcmp(argv[0], HELPER_ARGV0) == 0 &&
        strcmp(argv[1], HELPER_MAGIC) == 0)
        helper_main(argv);
}

/* ---- the parent ------------------------------------------------------- */

typedef struct child_run {
    uint8_t *buf;
    size_t len, cap;
    bool spawn_failed;
    int spawn_errno;
    bool timed_out;
    bool overflow;
    bool reaped;
    int status; /* from waitpid when reaped */
} child_run;

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void reap(pid_t pid, int64_t deadline, child_run *run, bool kill_first)
{
    if (kill_first)
        kill(pid, SIGKILL);
    for (;;) {
        int st = 0;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) {
            run->reaped = true;
            run->status = st;
            return;
        }
        if (r < 0 && errno != EINTR)
            return; /* ECHILD: SIGCHLD ignored by the application; judge by the records */
        if (r == 0 && now_ms() >= deadline) {
            kill(pid, SIGKILL);
            deadline = INT64_MAX; /* now wait for it to go */
        }
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* The image for the child: the scanned file's own descriptor when `data`
 * lies in its mapping (a top-level file, a stored member), else a sealed
 * memfd holding a copy (a member that was decompressed). Returns a
 * descriptor the caller closes, or -1 with errno set. */
static int image_fd(const ms_scan_ctx *ctx, const uint8_t *data, size_t len, uint64_t *offset)
{
    *offset = 0;
    if (ctx && ctx->file_map && len > 0 && data >= ctx->file_map &&
        (size_t)(data - ctx->file_map) <= ctx->file_len &&
        len <= ctx->file_len - (size_t)(data - ctx->file_map)) {
        *offset = (uint64_t)(data - ctx->file_map);
        return fcntl(ctx->file_fd, F_DUPFD_CLOEXEC, 10);
    }
    int fd = memfd_create("model-scanner-hdf5-image", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        return -1;
    if (!write_all(fd, data, len) ||
        fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) != 0) {
        int e = errno ? errno : EIO;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* Starts the reader: posix_spawn (a vfork-style clone and an exec), never a
 * bare fork(). The scan runs worker threads, and a child forked from a
 * threaded process inherits every lock another thread held at that instant
 * (an allocator's, a library's) with nobody left to release it; libhdf5 in
 * such a child may deadlock. An exec'd child starts clean. */
static pid_t spawn_reader(const char *mode, int out_fd, int img_fd, uint64_t offset, size_t len,
                          unsigned seconds, int *err)
{
    char off_s[32], len_s[32], sec_s[16], pid_s[32];
    snprintf(off_s, sizeof(off_s), "%llu", (unsigned long long)offset);
    snprintf(len_s, sizeof(len_s), "%zu", len);
    snprintf(sec_s, sizeof(sec_s), "%u", seconds);
    snprintf(pid_s, sizeof(pid_s), "%lld", (long long)getpid());
    char *argv[] = {HELPER_ARGV0, HELPER_MAGIC, (char *)(uintptr_t)mode, off_s, len_s, sec_s,
                    pid_s,        NULL};
    /* both descriptors are at 10 or above, so the two dup2s cannot clobber
     * each other */
    int out_hi = fcntl(out_fd, F_DUPFD_CLOEXEC, 10);
    int img_hi = out_hi >= 0 ? fcntl(img_fd, F_DUPFD_CLOEXEC, 10) : -1;
    pid_t pid = -1;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    int rc = out_hi < 0 || img_hi < 0 ? errno : 0;
    bool fa_ok = !rc && (rc = posix_spawn_file_actions_init(&fa)) == 0;
    bool at_ok = fa_ok && (rc = posix_spawnattr_init(&at)) == 0;
    if (at_ok) {
        sigset_t all, none;
        sigfillset(&all);
        sigemptyset(&none);
        if ((rc = posix_spawn_file_actions_adddup2(&fa, out_hi, HELPER_OUT_FD)) == 0 &&
            (rc = posix_spawn_file_actions_adddup2(&fa, img_hi, HELPER_IMAGE_FD)) == 0 &&
            (rc = posix_spawn_file_actions_addclosefrom_np(&fa, HELPER_IMAGE_FD + 1)) == 0 &&
            (rc = posix_spawnattr_setsigdefault(&at, &all)) == 0 &&
            (rc = posix_spawnattr_setsigmask(&at, &none)) == 0 &&
            (rc = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)) ==
                0)
            rc = posix_spawn(&pid, "/proc/self/exe", &fa, &at, argv, environ);
    }
    if (at_ok)
        posix_spawnattr_destroy(&at);
    if (fa_ok)
        posix_spawn_file_actions_destroy(&fa);
    if (out_hi >= 0)
        close(out_hi);
    if (img_hi >= 0)
        close(img_hi);
    *err = rc;
    return rc ? -1 : pid;
}

static void run_child(const ms_scan_ctx *ctx, const uint8_t *data, size_t len, const char *mode,
                      unsigned seconds, child_run *run)
{
    const size_t cap = NATTRS * ((size_t)ATTR_CAP + 64) + 64 * 1024;
    uint64_t offset = 0;
    int img = image_fd(ctx, data, len, &offset);
    if (img < 0) {
        run->spawn_failed = true;
        run->spawn_errno = errno;
        return;
    }
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) {
        run->spawn_failed = true;
        run->spawn_errno = errno;
        close(img);
        return;
    }
    int err = 0;
    pid_t pid = spawn_reader(mode, p[1], img, offset, len, seconds, &err);
    close(p[1]);
    close(img);
    if (pid < 0) {
        run->spawn_failed = true;
        run->spawn_errno = err;
        close(p[0]);
        return;
    }
    /* the exec and the dynamic linking come out of the child's time too */
    int64_t deadline = now_ms() + (int64_t)seconds * 1000 + 500;
    bool killed = false;
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0) {
            run->timed_out = killed = true;
            break;
        }
        struct pollfd pfd = {p[0], POLLIN, 0};
        int r = poll(&pfd, 1, (int)(left > 1000 ? 1000 : left));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            break;
        if (r == 0)
            continue;
        if (run->len == run->cap) {
            if (run->cap >= cap) {
                run->overflow = killed = true;
                break;
            }
            size_t ncap = run->cap ? run->cap * 2 : 65536;
            if (ncap > cap)
                ncap = cap;
            uint8_t *nb = realloc(run->buf, ncap);
            if (!nb) {
                run->overflow = killed = true;
                break;
            }
            run->buf = nb;
            run->cap = ncap;
        }
        ssize_t n = read(p[0], run->buf + run->len, run->cap - run->len);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            break; /* EOF: the child is done or dead */
        run->len += (size_t)n;
    }
    close(p[0]);
    reap(pid, now_ms() + 2000, run, killed);
}

typedef struct attr_value {
    char tag; /* 0: absent, 'A' value, 'X' unreadable */
    const uint8_t *value;
    size_t len;
} attr_value;

typedef struct child_result {
    attr_value attrs[NATTRS];
    bool done;
    const uint8_t *open_error;
    size_t open_error_len;
    const char *protocol_error;
} child_result;

static void parse_records(const child_run *run, child_result *res)
{
    ms_cursor c = ms_cursor_make(run->buf, run->len);
    while (ms_cursor_left(&c) > 0 && !res->done) {
        uint8_t tag = ms_cursor_u8(&c);
        uint32_t nlen = ms_cursor_u32le(&c);
        const uint8_t *name = nlen <= 64 ? ms_cursor_take(&c, nlen) : NULL;
        uint64_t vlen = ms_cursor_u64le(&c);
        const uint8_t *value =
            !c.error && vlen <= ms_cursor_left(&c) ? ms_cursor_take(&c, vlen) : NULL;
        if (c.error || (nlen && !name) || (vlen && !value)) {
            res->protocol_error = "a record is cut short";
            return;
        }
        if (tag == 'D') {
            res->done = true;
        } else if (tag == 'E') {
            res->open_error = value;
            res->open_error_len = (size_t)vlen;
        } else if (tag == 'A' || tag == 'X') {
            int k = -1;
            for (int i = 0; i < NATTRS; i++)
                if (strlen(attr_names[i]) == nlen && memcmp(attr_names[i], name, nlen) == 0)
                    k = i;
            if (k < 0 || res->attrs[k].tag) {
                res->protocol_error = "an unexpected attribute record";
                return;
            }
            res->attrs[k].tag = (char)tag;
            res->attrs[k].value = value;
            res->attrs[k].len = (size_t)vlen;
        } else {
            res->protocol_error = "an unknown record";
            return;
        }
    }
    if (!res->done && !res->open_error && !res->protocol_error)
        res->protocol_error = "the records end before the final one";
}

static const char *signal_name(int sig)
{
    switch (sig) {
    case SIGSEGV:
        return "SIGSEGV";
    case SIGBUS:
        return "SIGBUS";
    case SIGABRT:
        return "SIGABRT";
    case SIGFPE:
        return "SIGFPE";
    case SIGILL:
        return "SIGILL";
    case SIGKILL:
        return "SIGKILL";
    case SIGXCPU:
        return "SIGXCPU";
    case SIGALRM:
        return "SIGALRM";
    case SIGPIPE:
        return "SIGPIPE";
    case SIGSYS:
        return "SIGSYS";
    case SIGTERM:
        return "SIGTERM";
    default:
        return NULL;
    }
}

static void report_failure(ms_scan_ctx *ctx, const char *reason, json_t *d, const char *what)
{
    if (!d)
        d = json_object();
    json_object_set_new(d, "reason", json_string(reason));
    ms_report_add(ctx->report, "HDF5-PARSER-FAILURE", ctx->location, d,
                  "%s This HDF5 file is malformed or crafted against HDF5 readers, and the Keras "
                  "configuration it may hold was not (fully) checked.",
                  what);
}

/* Fails closed on everything the child run says went wrong; returns true
 * when the records can be trusted as complete. */
static bool judge_run(ms_scan_ctx *ctx, const child_run *run, const child_result *res,
                      unsigned seconds)
{
    char what[REASON_CAP + 256];
    if (run->spawn_failed) {
        snprintf(what, sizeof(what),
                 "The HDF5 reader could not be started in a child process (%s).",
                 strerror(run->spawn_errno));
        report_failure(ctx, "spawn", NULL, what);
        return false;
    }
    if (run->timed_out) {
        snprintf(what, sizeof(what),
                 "libhdf5 did not finish reading the root attributes within %u seconds; the "
                 "child process reading them was killed (SIGKILL).",
                 seconds);
        report_failure(ctx, "timeout",
                       json_pack("{s:s, s:I}", "signal", "SIGKILL", "seconds", (json_int_t)seconds),
                       what);
        return false;
    }
    if (run->overflow) {
        snprintf(what, sizeof(what),
                 "The child process reading the file with libhdf5 sent more than the %zu bytes "
                 "it may send and was killed.",
                 (size_t)(NATTRS * ((size_t)ATTR_CAP + 64) + 64 * 1024));
        report_failure(ctx, "output limit", NULL, what);
        return false;
    }
    if (run->reaped && WIFSIGNALED(run->status)) {
        int sig = WTERMSIG(run->status);
        const char *name = signal_name(sig);
        char num[32];
        snprintf(num, sizeof(num), "signal %d", sig);
        const char *why = sig == SIGXCPU   ? " (its CPU time limit)"
                          : sig == SIGALRM ? " (its wall-clock limit)"
                                           : "";
        snprintf(what, sizeof(what),
                 "libhdf5 crashed while reading this file's root attributes: the child process "
                 "reading them was killed by %s%s.",
                 name ? name : num, why);
        report_failure(ctx, "crash",
                       json_pack("{s:s, s:i}", "signal", name ? name : num, "signal_number", sig),
                       what);
        return false;
    }
    if (run->reaped && WIFEXITED(run->status) && WEXITSTATUS(run->status) != 0) {
        snprintf(what, sizeof(what),
                 "The child process reading the file with libhdf5 exited with status %d.",
                 WEXITSTATUS(run->status));
        report_failure(ctx, "exit status",
                       json_pack("{s:i}", "exit_status", WEXITSTATUS(run->status)), what);
        return false;
    }
    if (res->open_error) {
        int n = (int)(res->open_error_len > 400 ? 400 : res->open_error_len);
        snprintf(what, sizeof(what), "%.*s.", n, (const char *)res->open_error);
        report_failure(ctx, "unreadable", NULL, what);
        return false;
    }
    if (res->protocol_error) {
        snprintf(what, sizeof(what),
                 "The child process reading the file with libhdf5 stopped early (%s).",
                 res->protocol_error);
        report_failure(ctx, "incomplete", NULL, what);
        return false;
    }
    return true;
}

static char *attr_text(const attr_value *a)
{
    if (a->tag != 'A')
        return NULL;
    size_t n = a->len > 200 ? 200 : a->len;
    char *s = malloc(n + 1);
    if (!s)
        return NULL;
    memcpy(s, a->value, n);
    s[n] = '\0';
    ms_sanitize_text(s);
    return s;
}

ms_status hdf5_scan_with(ms_scan_ctx *ctx, const uint8_t *data, size_t len, const char *mode,
                         unsigned seconds)
{
    if (seconds == 0) {
        seconds = MS_DEFAULT_HDF5_CHILD_SECONDS;
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        int64_t used = (int64_t)(t.tv_sec - ctx->budget->start.tv_sec);
        int64_t left = (int64_t)ctx->limits->scan_max_seconds - used;
        if (left < (int64_t)seconds)
            seconds = left > 1 ? (unsigned)left : 1;
    }
    child_run run;
    memset(&run, 0, sizeof(run));
    run_child(ctx, data, len, mode, seconds, &run);
    child_result res;
    memset(&res, 0, sizeof(res));
    if (!run.spawn_failed)
        parse_records(&run, &res);
    (void)judge_run(ctx, &run, &res, seconds);

    ms_status st = MS_OK;
    char *version = attr_text(&res.attrs[2]);
    char *backend = attr_text(&res.attrs[3]);
    for (int i = 0; i < 2; i++) { /* model_config, training_config */
        const attr_value *a = &res.attrs[i];
        if (a->tag == 'X') {
            int n = (int)(a->len > 400 ? 400 : a->len);
            char what[600];
            snprintf(what, sizeof(what), "The root attribute '%s' could not be read (%.*s).",
                     attr_names[i], n, (const char *)a->value);
            report_failure(ctx, "attribute", json_pack("{s:s}", "attribute", attr_names[i]), what);
            continue;
        }
        if (a->tag != 'A')
            continue;
        if (i == 0)
            ctx->format_detail = "keras-h5";
        json_t *extra = json_pack("{s:s}", "attribute", attr_names[i]);
        if (extra && version)
            json_object_set_new(extra, "keras_version", json_string(version));
        if (extra && backend)
            json_object_set_new(extra, "backend", json_string(backend));
        ms_status s =
            keras_config_scan_ex(ctx, ctx->location, extra, (const char *)a->value, a->len);
        json_decref(extra);
        if (s != MS_OK)
            st = s;
    }
    free(version);
    free(backend);
    free(run.buf);
    return st;
}

ms_status hdf5_scan(ms_scan_ctx *ctx, const uint8_t *data, size_t len)
{
    return hdf5_scan_with(ctx, data, len, "attributes", 0);
}
