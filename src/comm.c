/* comm.c - the bucketed gradient allreduce, the step's double slots, the collective error
 * agreement, and the watchdog that turns a stalled rank into a message. */
#define _GNU_SOURCE
#include "comm.h"
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <signal.h>
#include <sys/time.h>
#include <unistd.h>

#define ROLL_CALL_TAG 7001
#define ARRIVAL_TAG 7100        /* + the round */
#define ROLL_CALL_GRACE 5.0     /* seconds the ranks still running wait for each other */

static MPI_Datatype real_type(void) { return HC_REAL_IS_DOUBLE ? MPI_DOUBLE : MPI_FLOAT; }

/* The blocking collectives the alarm watches: its message names the one a rank waited in. */
typedef enum {
    WAIT_GRADIENT, WAIT_SHARES, WAIT_WEIGHTS, WAIT_STATE, WAIT_EXACT,  /* a step's (alarm_init) */
    N_STEP_WAITS,
    WAIT_STARTUP = N_STEP_WAITS,                                        /* comm_startup_watch */
    N_WAITS
} wait_kind;

static int agree(MPI_Comm comm, hc_comm *watched, const char *what, hc_err *e);
static void alarm_init(const hc_comm *c);
static void arm(const hc_comm *c, wait_kind what);
static void disarm(const hc_comm *c);

/* Parts of n values for P ranks, each beginning at a multiple of 16 values. */
static void set_parts(hc_comm *c)
{
    for (int r = 0; r < c->size; r++) {
        size_t b = (c->n_reals * (size_t)r / (size_t)c->size) & ~(size_t)15;
        size_t e = r + 1 == c->size ? c->n_reals
                                    : (c->n_reals * (size_t)(r + 1) / (size_t)c->size) & ~(size_t)15;
        c->part_begin[r] = (int)b;
        c->part_count[r] = (int)(e - b);
    }
}

static int init_sharded(hc_comm *c, hc_err *e)
{
    if (c->n_reals > (size_t)1 << 30)
        return hc_fail(e, HC_ERR_RUNTIME, "the sharded update takes at most 2^30 weights");
    size_t n = c->n_reals ? c->n_reals : 1, P = (size_t)c->size;
    if (posix_memalign((void **)&c->reduced, 64, n * sizeof *c->reduced)) c->reduced = NULL;
    c->part_begin = calloc(P, sizeof *c->part_begin);
    c->part_count = calloc(P, sizeof *c->part_count);
    c->shares = calloc(P * HC_COMM_MAX_SHARES, sizeof *c->shares);
    if (!c->reduced || !c->part_begin || !c->part_count || !c->shares)
        return hc_fail(e, HC_ERR_RUNTIME, "out of memory for the sharded update");
    memset(c->reduced, 0, c->n_reals * sizeof *c->reduced);
    set_parts(c);
    c->sharded = 1;
    return 0;
}

int comm_init(hc_comm *c, MPI_Comm comm, size_t n_reals, size_t bucket_elems, int sharded,
              double watchdog_s, hc_err *e)
{
    memset(c, 0, sizeof *c);
    c->comm = comm;
    c->watch = MPI_COMM_NULL;
    MPI_Comm_rank(comm, &c->rank);
    MPI_Comm_size(comm, &c->size);
    c->n_reals = n_reals;
    c->watchdog_s = watchdog_s;
    if (bucket_elems == 0 || bucket_elems > n_reals) bucket_elems = n_reals ? n_reals : 1;
    size_t min_elems = (n_reals + HC_COMM_MAX_BUCKETS - 1) / HC_COMM_MAX_BUCKETS;
    if (bucket_elems < min_elems) bucket_elems = min_elems;
    if (bucket_elems > (size_t)1 << 30)
        return hc_fail(e, HC_ERR_RUNTIME, "gradient buckets of %zu values are too large for MPI",
                       bucket_elems);
    c->bucket_elems = bucket_elems;
    c->n_buckets = n_reals ? (int)((n_reals + bucket_elems - 1) / bucket_elems) : 0;
    for (int i = 0; i <= HC_COMM_MAX_BUCKETS; i++) c->req[i] = MPI_REQUEST_NULL;
    /* Collective: a rank that cannot allocate says so to all before the first collective,
     * and so does one whose sharded parts fail, so that every rank returns the same
     * error (the others would wait in the host names' allgather, or in the step). */
    if (posix_memalign((void **)&c->grad, 64, (n_reals ? n_reals : 1) * sizeof *c->grad))
        c->grad = NULL;
    c->host = calloc((size_t)c->size, sizeof *c->host);
    if (!c->grad || !c->host)
        hc_fail(e, HC_ERR_RUNTIME, "out of memory for the %s", c->grad ? "host table" : "gradient buffer");
    if (agree(comm, NULL, NULL, e)) {
        free(c->grad);
        free(c->host);
        c->grad = NULL;
        c->host = NULL;
        return e->code;
    }
    memset(c->grad, 0, n_reals * sizeof *c->grad);
    char mine[MPI_MAX_PROCESSOR_NAME] = "";
    int len = 0;
    MPI_Get_processor_name(mine, &len);
    snprintf(c->host[c->rank], HC_HOST_NAME, "%s", mine);
    MPI_Allgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, c->host, HC_HOST_NAME, MPI_CHAR, comm);
    for (int r = 0; r < c->size; r++) c->host[r][HC_HOST_NAME - 1] = '\0';
    MPI_Comm_dup(comm, &c->watch);
    if (sharded && c->size > 1 && c->n_buckets <= 1) init_sharded(c, e);
    if (agree(comm, NULL, NULL, e)) return e->code;
    if (c->size > 1 && watchdog_s > 0) alarm_init(c);    /* after: its text says if sharded */
    return 0;
}

void comm_free(hc_comm *c)
{
    if (c->host && c->watch != MPI_COMM_NULL) MPI_Comm_free(&c->watch);   /* host: inited */
    free(c->grad);
    free(c->host);
    free(c->reduced);
    free(c->part_begin);
    free(c->part_count);
    free(c->shares);
    memset(c, 0, sizeof *c);
}

/* ---- the step's reduction ---- */

static size_t bucket_begin(const hc_comm *c, int b) { return (size_t)b * c->bucket_elems; }

static size_t bucket_size(const hc_comm *c, int b)
{
    size_t begin = bucket_begin(c, b);
    return c->n_reals - begin < c->bucket_elems ? c->n_reals - begin : c->bucket_elems;
}

void comm_step_begin(hc_comm *c)
{
    memset(c->ready, 0, sizeof c->ready);
    c->posted = 0;
}

/* Posts bucket n_buckets-1-posted: the same order on every rank, as MPI requires. */
static void post_next(hc_comm *c)
{
    int b = c->n_buckets - 1 - c->posted;
    MPI_Iallreduce(MPI_IN_PLACE, c->grad + bucket_begin(c, b), (int)bucket_size(c, b),
                   real_type(), MPI_SUM, c->comm, &c->req[c->posted]);
    c->posted++;
}

void comm_grad_ready(hc_comm *c, size_t offset, size_t count)
{
    if (c->size == 1 || c->n_buckets == 1) return;
    size_t end = offset + count;
    for (int b = (int)(offset / c->bucket_elems); b < c->n_buckets; b++) {
        size_t lo = bucket_begin(c, b), hi = lo + bucket_size(c, b);
        if (lo >= end) break;
        c->ready[b] += (end < hi ? end : hi) - (offset > lo ? offset : lo);
    }
    while (c->posted < c->n_buckets) {
        int b = c->n_buckets - 1 - c->posted;
        if (c->ready[b] < bucket_size(c, b)) break;
        post_next(c);
    }
    int done;   /* libnbc moves the posted allreduces only while polled */
    if (c->posted) MPI_Testall(c->posted, c->req, &done, MPI_STATUSES_IGNORE);
}

/* ---- the watchdog ---- */

static double now(void) { return MPI_Wtime(); }

/* The ranks still running exchange a byte on the watch communicator; whoever does not
 * answer within the grace time is the one the job waited for. The lowest answering rank
 * words the message; the others return the code alone (main aborts the job). */
static int roll_call(hc_comm *c, const char *what, double waited, hc_err *e)
{
    int n = c->size;
    char mine = 1, *got = calloc((size_t)n, 1);
    MPI_Request *rq = calloc((size_t)(2 * n), sizeof *rq);
    if (!got || !rq) {
        free(got); free(rq);
        return hc_fail(e, HC_ERR_STALLED, "a rank has not joined %s for %.0f s: ending the job",
                       what, waited);
    }
    for (int r = 0; r < 2 * n; r++) rq[r] = MPI_REQUEST_NULL;
    for (int r = 0; r < n; r++) {
        if (r == c->rank) continue;
        MPI_Irecv(&got[r], 1, MPI_CHAR, r, ROLL_CALL_TAG, c->watch, &rq[r]);
        MPI_Isend(&mine, 1, MPI_CHAR, r, ROLL_CALL_TAG, c->watch, &rq[n + r]);
    }
    got[c->rank] = 1;
    double deadline = now() + ROLL_CALL_GRACE;
    int all = 0;
    while (!all && now() < deadline) {
        MPI_Testall(n, rq, &all, MPI_STATUSES_IGNORE);   /* receives only: sends may hang */
        if (!all) sched_yield();
    }
    int lowest = c->rank, missing = -1, n_missing = 0;
    for (int r = 0; r < n; r++) {
        if (got[r] && r < lowest) lowest = r;
        if (!got[r] && n_missing++ == 0) missing = r;
    }
    /* several silent: the stopped one, and any left waiting for it inside a blocking
     * collective (which cannot answer): the message names them all, the first eight */
    char list[8 * (HC_HOST_NAME + 16)] = "";
    size_t len = 0;
    for (int r = 0, shown = 0; r < n && shown < 8; r++) {
        if (got[r]) continue;
        int k = snprintf(list + len, sizeof list - len, "%s%d on %s", shown ? ", " : "", r, c->host[r]);
        if (k < 0 || (size_t)k >= sizeof list - len) break;
        len += (size_t)k;
        shown++;
    }
    free(got);
    free(rq);   /* requests to the missing ranks stay pending: the job ends now */
    if (lowest != c->rank) {
        e->msg[0] = '\0';
        return e->code = HC_ERR_STALLED;
    }
    if (n_missing == 0)
        return hc_fail(e, HC_ERR_STALLED, "the ranks did not meet in %s for %.0f s although all "
                       "answer (they are in different collectives): ending the job", what, waited);
    if (n_missing == 1)
        return hc_fail(e, HC_ERR_STALLED, "rank %d on %s has not joined %s for %.0f s (stopped, "
                       "hung or dead): ending the job (--watchdog sets the limit)", missing,
                       c->host[missing], what, waited);
    return hc_fail(e, HC_ERR_STALLED, "ranks %s%s have not joined %s for %.0f s (one stopped, hung "
                   "or dead, the others waiting for it inside a collective): ending the job "
                   "(--watchdog sets the limit)", list, n_missing > 8 ? ", ..." : "", what, waited);
}

/* Polls as a blocking MPI call would: Open MPI's progress engine itself yields the core
 * when the node is oversubscribed, and holds it otherwise (yielding here would hand the
 * core to any other process on a busy node and stretch the step by a time slice). */
static int wait_all(hc_comm *c, int n, MPI_Request *req, const char *what, hc_err *e)
{
    double start = now(), deadline = start + c->watchdog_s, last = start;
    for (unsigned long spins = 0;; spins++) {
        int done;
        MPI_Testall(n, req, &done, MPI_STATUSES_IGNORE);
        if (done) return 0;
        if ((spins & 63) != 63 || c->watchdog_s <= 0) continue;
        double t = now(), gap = t - last;
        last = t;
        if (t <= deadline) continue;
        /* Half the limit without a poll, and past the deadline: this rank was the one
         * stopped (SIGSTOP, then the launcher's SIGCONT before it kills the job); the
         * others have named it already. (A busy node delays 64 polls by far less.) */
        if (gap > 0.5 * c->watchdog_s && gap > 1.0) {
            e->msg[0] = '\0';
            return e->code = HC_ERR_STALLED;
        }
        return roll_call(c, what, t - start, e);
    }
}

/* The watchdog's arrival check after the backward, by dissemination: in round k each rank
 * sends an empty message to rank + 2^k and waits for the one from rank - 2^k, so after
 * ceil(log2 P) rounds every rank knows that all have arrived. Point-to-point, it costs
 * two messages a round; a non-blocking collective in its place (libnbc builds a schedule
 * for each call) cost about 0.02 ms a step here (docs/performance.md). A rank that does
 * not arrive leaves every other one waiting in some round, polling: the roll call. */
static int arrival_check(hc_comm *c, hc_err *e)
{
    int n_sent = 0;
    for (long step = 1, k = 0; step < c->size; step <<= 1, k++) {
        int to = (int)((c->rank + step) % c->size);
        int from = (int)((c->rank - step + c->size) % c->size);
        MPI_Irecv(NULL, 0, MPI_BYTE, from, ARRIVAL_TAG + (int)k, c->watch, &c->req[0]);
        MPI_Isend(NULL, 0, MPI_BYTE, to, ARRIVAL_TAG + (int)k, c->watch, &c->req[1 + n_sent++]);
        if (wait_all(c, 1, c->req, "the step's allreduce", e)) return e->code;
    }
    return wait_all(c, n_sent, c->req + 1, "the step's allreduce", e);
}

int comm_step_finish(hc_comm *c, hc_err *e)
{
    if (c->size == 1) return 0;
    if (c->n_buckets == 1) {
        /* No overlap: once every rank has arrived (the check polls under the watchdog),
         * the slots and the gradient take Open MPI's tuned blocking allreduce. */
        if (c->watchdog_s > 0 && arrival_check(c, e)) return e->code;
        arm(c, WAIT_GRADIENT);      /* one alarm over both collectives */
        int rc = MPI_Allreduce(MPI_IN_PLACE, c->slot, COMM_SLOTS, MPI_DOUBLE, MPI_SUM, c->comm);
        if (rc == MPI_SUCCESS && c->sharded)
            rc = MPI_Reduce_scatter(c->grad, c->reduced + c->part_begin[c->rank], c->part_count,
                                    real_type(), MPI_SUM, c->comm);
        else if (rc == MPI_SUCCESS)
            rc = MPI_Allreduce(MPI_IN_PLACE, c->grad, (int)c->n_reals, real_type(), MPI_SUM, c->comm);
        disarm(c);
        return rc == MPI_SUCCESS ? 0 : hc_fail(e, HC_ERR_RUNTIME, "the gradient's reduction failed");
    }
    while (c->posted < c->n_buckets) post_next(c);   /* whatever the backward did not report */
    MPI_Iallreduce(MPI_IN_PLACE, c->slot, COMM_SLOTS, MPI_DOUBLE, MPI_SUM, c->comm,
                   &c->req[c->posted]);
    return wait_all(c, c->posted + 1, c->req, "the step's allreduce", e);
}

/* ---- the sharded update ---- */

void comm_weight_part(const hc_comm *c, size_t *lo, size_t *hi)
{
    *lo = c->sharded ? (size_t)c->part_begin[c->rank] : 0;
    *hi = c->sharded ? *lo + (size_t)c->part_count[c->rank] : c->n_reals;
}

const hc_real *comm_reduced_grad(const hc_comm *c) { return c->sharded ? c->reduced : c->grad; }

int comm_sum_shares(hc_comm *c, double *v, int n, hc_err *e)
{
    if (!c->sharded || n == 0) return 0;
    if (n > HC_COMM_MAX_SHARES)
        return hc_fail(e, HC_ERR_RUNTIME, "the sharded update sums at most %d shares, got %d",
                       HC_COMM_MAX_SHARES, n);
    arm(c, WAIT_SHARES);
    int rc = MPI_Allgather(v, n, MPI_DOUBLE, c->shares, n, MPI_DOUBLE, c->comm);
    disarm(c);
    if (rc != MPI_SUCCESS) return hc_fail(e, HC_ERR_RUNTIME, "MPI_Allgather of the shares failed");
    for (int h = 0; h < n; h++) {
        double sum = 0.0;
        for (int r = 0; r < c->size; r++) sum += c->shares[(size_t)r * (size_t)n + (size_t)h];
        v[h] = sum;
    }
    return 0;
}

int comm_gather_weights(hc_comm *c, hc_real *w, hc_err *e)
{
    if (!c->sharded) return 0;
    arm(c, WAIT_WEIGHTS);
    int rc = MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, w, c->part_count, c->part_begin,
                            real_type(), c->comm);
    disarm(c);
    return rc == MPI_SUCCESS ? 0 : hc_fail(e, HC_ERR_RUNTIME, "MPI_Allgatherv of the weights failed");
}

int comm_gather_to_root(hc_comm *c, hc_real *v, hc_err *e)
{
    if (!c->sharded) return 0;
    int me = c->part_begin[c->rank], rc;
    arm(c, WAIT_STATE);
    if (c->rank == 0)
        rc = MPI_Gatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, v, c->part_count, c->part_begin,
                         real_type(), 0, c->comm);
    else
        rc = MPI_Gatherv(v + me, c->part_count[c->rank], real_type(), NULL, NULL, NULL,
                         real_type(), 0, c->comm);
    disarm(c);
    return rc == MPI_SUCCESS ? 0 : hc_fail(e, HC_ERR_RUNTIME, "MPI_Gatherv of the state failed");
}

int comm_allreduce(hc_comm *c, void *buf, int count, MPI_Datatype type, MPI_Op op,
                   const char *what, hc_err *e)
{
    if (c->size == 1 || count == 0) return 0;
    MPI_Iallreduce(MPI_IN_PLACE, buf, count, type, op, c->comm, &c->req[0]);
    return wait_all(c, 1, c->req, what, e);
}

/* A blocking collective cannot be polled: should a rank stop inside it (after the watched
 * collective before it saw everyone arrive), an alarm at the watchdog's limit ends the
 * ranks waiting in it with a message prepared in advance, and the launcher ends the job.
 * It comes after the limit and the roll call, so that a rank that went on to a watched
 * collective (the allreduce completed there) names the stopped rank first.
 * The waiting ranks speak in rank order, 4 s apart: the first to exit has the launcher
 * end the others, so one line is printed. The stopped rank's own alarm, due while it was
 * stopped, is delivered only when the launcher resumes it to kill it, seconds late: that
 * rank speaks last, after every waiting rank could have, and by then the job is gone. (A
 * rule on CPU time used instead failed under load: a waiting rank starved of the CPU
 * looked stopped, and the job ended without a message or 37 s late.) The handler can
 * reach nothing but these: the state it needs. */
static char alarm_text[N_WAITS][320];
static size_t alarm_len[N_WAITS];
static volatile sig_atomic_t alarm_what;
static int alarm_rank;
static double alarm_due;       /* CLOCK_MONOTONIC seconds */

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void pause_for(long ms)
{
    struct timespec left = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&left, &left) != 0) continue;     /* resumed after any signal */
}

static void on_alarm(int sig)
{
    (void)sig;
    int stopped = clock_s(CLOCK_MONOTONIC) - alarm_due > 2.0;   /* delivered late */
    pause_for(4000L * (stopped ? 9 : alarm_rank < 8 ? alarm_rank : 8));
    if (write(2, alarm_text[alarm_what], alarm_len[alarm_what]) >= 0) pause_for(500);
    _exit(HC_ERR_STALLED);
}

static void start_timer(double seconds)
{
    struct itimerval it = {{0, 0}, {(time_t)seconds, 0}};
    alarm_due = clock_s(CLOCK_MONOTONIC) + (double)(time_t)seconds;
    setitimer(ITIMER_REAL, &it, NULL);
}

static void arm(const hc_comm *c, wait_kind what)
{
    if (c->watchdog_s <= 0) return;
    alarm_what = what;
    start_timer(c->watchdog_s + ROLL_CALL_GRACE + 1);
}

static void disarm(const hc_comm *c)
{
    if (c->watchdog_s > 0) start_timer(0);
}

static void set_alarm_text(wait_kind k, int rank, const char *host, double seconds,
                           const char *where)
{
    int n = snprintf(alarm_text[k], sizeof alarm_text[k], "hyperclip: error: rank %d on %s "
                     "waited %.0f s %s: ending the job\n", rank, host, seconds, where);
    alarm_len[k] = n < 0 ? 0 : (size_t)n < sizeof alarm_text[k] ? (size_t)n
                                                                : sizeof alarm_text[k] - 1;
}

static void install_alarm_handler(int rank)
{
    alarm_rank = rank;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
}

static void alarm_init(const hc_comm *c)
{
    const char *name[N_STEP_WAITS] = {
        [WAIT_GRADIENT] = c->sharded ? "the gradient reduce-scatter" : "the gradient allreduce",
        [WAIT_SHARES] = "the allgather of the hypergradient shares",
        [WAIT_WEIGHTS] = "the allgather of the weights",
        [WAIT_STATE] = "the gather of the optimizer state for a checkpoint",
        [WAIT_EXACT] = "the exact gradient sum (--reproducible)"};
    char where[160];
    for (int k = 0; k < N_STEP_WAITS; k++) {
        snprintf(where, sizeof where, "inside %s (another rank stopped in it)", name[k]);
        set_alarm_text((wait_kind)k, c->rank, c->host[c->rank], c->watchdog_s + ROLL_CALL_GRACE + 1,
                       where);
    }
    install_alarm_handler(c->rank);
}

void comm_startup_watch(MPI_Comm comm, double watchdog_s)
{
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    if (size == 1 || watchdog_s <= 0) {
        start_timer(0);
        return;
    }
    char host[HC_HOST_NAME] = "";
    gethostname(host, sizeof host - 1);
    set_alarm_text(WAIT_STARTUP, rank, host, watchdog_s + ROLL_CALL_GRACE + 1,
                   "for the other ranks during start-up (one stopped, hung, or slower to load "
                   "the data than --watchdog allows)");
    install_alarm_handler(rank);
    alarm_what = WAIT_STARTUP;
    start_timer(watchdog_s + ROLL_CALL_GRACE + 1);
}

int comm_allreduce_blocking(hc_comm *c, void *buf, int count, MPI_Datatype type, MPI_Op op,
                            hc_err *e)
{
    if (c->size == 1 || count == 0) return 0;
    arm(c, WAIT_EXACT);
    int rc = MPI_Allreduce(MPI_IN_PLACE, buf, count, type, op, c->comm);
    disarm(c);
    if (rc != MPI_SUCCESS) return hc_fail(e, HC_ERR_RUNTIME, "MPI_Allreduce failed");
    return 0;
}

int comm_allreduce_bare(hc_comm *c, hc_err *e)
{
    return comm_allreduce_blocking(c, c->grad, (int)c->n_reals, real_type(), MPI_SUM, e);
}

void comm_shard(int rank, int size, int n, int *begin, int *end)
{
    *begin = (int)((long)n * rank / size);
    *end = (int)((long)n * (rank + 1) / size);
}

/* ---- agreement ---- */

static int agree(MPI_Comm comm, hc_comm *watched, const char *what, hc_err *e)
{
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    int first = e->code ? rank : size;     /* the lowest failing rank, or size */
    if (watched) {
        hc_err w = {0};
        if (comm_allreduce(watched, &first, 1, MPI_INT, MPI_MIN, what, &w)) {
            *e = w;
            return e->code;
        }
    } else {
        MPI_Allreduce(MPI_IN_PLACE, &first, 1, MPI_INT, MPI_MIN, comm);
    }
    if (first == size) return 0;
    int code = e->code;
    MPI_Bcast(&code, 1, MPI_INT, first, comm);
    MPI_Bcast(e->msg, HC_ERR_MSG, MPI_CHAR, first, comm);
    e->code = code;
    return code;
}

int comm_agree_on(MPI_Comm comm, hc_err *e) { return agree(comm, NULL, NULL, e); }
int comm_agree(hc_comm *c, hc_err *e) { return agree(c->comm, c, "a collective check", e); }
int comm_agree_after(hc_comm *c, const char *what, hc_err *e) { return agree(c->comm, c, what, e); }

uint64_t checksum64(const void *data, size_t bytes)
{
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < bytes; i++) h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

int comm_check_identical(hc_comm *c, uint64_t sum, const char *what, hc_err *e)
{
    uint64_t lo = sum, hi = sum;
    if (comm_allreduce(c, &lo, 1, MPI_UINT64_T, MPI_MIN, "the weights' check", e) ||
        comm_allreduce(c, &hi, 1, MPI_UINT64_T, MPI_MAX, "the weights' check", e))
        return e->code;
    if (lo == hi) return 0;
    return hc_fail(e, HC_ERR_RUNTIME,
                   "ranks disagree on %s (checksums %016llx .. %016llx): the run is no longer "
                   "data-parallel, stopping", what, (unsigned long long)lo, (unsigned long long)hi);
}
