/*
 * bench/whload: load generator for the webhook endpoint of `mlc run`, and
 * the readiness poller of the start-up benchmark. Loopback only; prints one
 * JSON object on stdout; asserts nothing. Built by `make bench`.
 *
 *   whload load --port P [--conns N] [--requests R] [--rate RPS]
 *               [--prefix ID] [--order-base N] [--deadline-s S]
 *       R signed deliveries of "store/order/created" over N keep-alive
 *       connections (HTTP/1.1, one request in flight per connection).
 *       Delivery i has webhook-id "<ID>-<i>" and order id <N + i>: the same
 *       prefix and base twice send the same deliveries again (BigCommerce's
 *       retries: answered "duplicate"). Without --rate the loop is closed
 *       (each connection sends as soon as its answer came: the most the
 *       endpoint sustains); with --rate delivery i is due at start + i/RPS
 *       and its latency counts from then, so time spent waiting for a free
 *       connection counts too (no coordinated omission).
 *       Every request is built and signed before the clock starts. A
 *       connection the server closes is opened again; a request it had in
 *       flight counts as an error, never as accepted. Gives up (exit 1,
 *       "gave_up": true) after S seconds (300) or when no connection can
 *       be opened any more.
 *
 *   whload wait --port P [--path /readyz] [--timeout-ms T]
 *       Polls GET PATH every 2 ms until it answers 200, then prints the
 *       wall-clock time of that answer ({"ready_at_us": ...}); exit 1 on
 *       timeout.
 *
 * Secrets come from the environment, never argv: WHLOAD_CLIENT_SECRET (the
 * Standard Webhooks key: HMAC-SHA256 over "id.timestamp.body" keyed by its
 * raw bytes, as BigCommerce signs) and WHLOAD_HEADER_SECRET (the custom
 * header X-MLC-Webhook-Secret). Either may be unset; a daemon that requires
 * it then answers 401, which shows as "other" answers.
 *
 * The signing is libsodium's, not the connector's bc_webhook, so that the
 * endpoint is driven by an independent implementation.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#define MAX_CONNS    512
#define RBUF_SIZE    4096
#define REQ_MAX      1024    /* one request: headers and body */
#define WAIT_POLL_US 2000
#define MAX_EVENTS   64

/* Options of both modes. */
struct opts {
    int         port;
    int         conns;
    long        requests;
    double      rate;        /* deliveries/s offered; 0: closed loop */
    const char *prefix;      /* webhook-id prefix */
    long long   order_base;  /* order id of delivery 0 */
    long        deadline_s;  /* load: give up after this long */
    const char *path;        /* wait: the path polled */
    long        timeout_ms;  /* wait */
};

/* Every request, built before the run: request i is buf[off[i] .. off[i+1]). */
struct reqs {
    char   *buf;
    size_t *off;
    long    n;
};

/* One keep-alive connection and the request it has in flight (req < 0:
 * idle). fd < 0: lost and not re-established. */
struct conn {
    int      fd;
    long     req;
    size_t   sent;       /* bytes of req written */
    uint64_t t_due_us;   /* its latency counts from here */
    char     rbuf[RBUF_SIZE];
    size_t   rlen;
};

/* What the run saw. */
struct tally {
    long      completed;   /* answers read, any status */
    long      stored;      /* 200 {"status":"stored"} */
    long      duplicate;   /* 200 {"status":"duplicate"} */
    long      other;       /* any other answer */
    long      errors;      /* connection lost with a request in flight */
    long      reconnects;
    uint32_t *lat_us;      /* one per completed answer */
    uint64_t  t0_us, t_last_us;
};

/* The load loop's state. */
struct run {
    const struct opts *o;
    struct reqs        rq;
    struct conn       *c;
    int                ep;
    int               *idle;    /* stack of idle connection indexes */
    int                n_idle;
    int                n_dead;  /* connections that could not reconnect */
    long               next;    /* next request to send */
    struct tally       t;
};

static uint64_t clock_us(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t mono_us(void) { return clock_us(CLOCK_MONOTONIC); }

static void sleep_us(long us)
{
    struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

    nanosleep(&ts, NULL);
}

/* ---- requests ----------------------------------------------------------- */

/* "v1,<base64 HMAC-SHA256(key, id.ts.body)>" into out. */
static void sign(const char *key, const char *id, const char *ts,
                 const char *body, size_t len, char out[64])
{
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];

    crypto_auth_hmacsha256_init(&st, (const unsigned char *)key, strlen(key));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)id, strlen(id));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts, strlen(ts));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
    crypto_auth_hmacsha256_final(&st, mac);
    memcpy(out, "v1,", 3);
    sodium_bin2base64(out + 3, 61, mac, sizeof(mac), sodium_base64_VARIANT_ORIGINAL);
}

/* Request i into dst (REQ_MAX bytes); its length, 0 when it does not fit. */
static size_t build_one(const struct opts *o, long i, const char *ts, char *dst)
{
    const char *ckey = getenv("WHLOAD_CLIENT_SECRET");
    const char *hkey = getenv("WHLOAD_HEADER_SECRET");
    long long order = o->order_base + i;
    char body[320], id[128], sig[64] = "", hdr[320] = "";
    int blen, n;

    blen = snprintf(body, sizeof(body),
                    "{\"scope\":\"store/order/created\",\"store_id\":\"1025646\","
                    "\"data\":{\"type\":\"order\",\"id\":%lld},\"hash\":\"%016llx\","
                    "\"created_at\":%s,\"producer\":\"stores/nwhg42\"}",
                    order, (unsigned long long)order * 2654435761ull, ts);
    snprintf(id, sizeof(id), "%s-%ld", o->prefix, i);
    if (ckey != NULL && *ckey != '\0')
        sign(ckey, id, ts, body, (size_t)blen, sig);
    if (hkey != NULL && *hkey != '\0')
        snprintf(hdr, sizeof(hdr), "X-MLC-Webhook-Secret: %s\r\n", hkey);
    n = snprintf(dst, REQ_MAX,
                 "POST /webhooks/bigcommerce HTTP/1.1\r\n"
                 "Host: 127.0.0.1:%d\r\n"
                 "Content-Type: application/json\r\n"
                 "Content-Length: %d\r\n"
                 "webhook-id: %s\r\n"
                 "webhook-timestamp: %s\r\n"
                 "webhook-signature: %s\r\n"
                 "%s\r\n%s",
                 o->port, blen, id, ts, sig, hdr, body);
    return n > 0 && n < REQ_MAX ? (size_t)n : 0;
}

/* Builds and signs every request; 0 or -1. */
static int build_all(const struct opts *o, struct reqs *r)
{
    char ts[24];
    size_t used = 0;

    snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
    r->n = o->requests;
    r->buf = malloc((size_t)r->n * REQ_MAX);
    r->off = malloc(((size_t)r->n + 1) * sizeof(*r->off));
    if (r->buf == NULL || r->off == NULL)
        return -1;
    for (long i = 0; i < r->n; i++) {
        size_t len = build_one(o, i, ts, r->buf + used);

        if (len == 0)
            return -1;
        r->off[i] = used;
        used += len;
    }
    r->off[r->n] = used;
    return 0;
}

/* ---- sockets ------------------------------------------------------------ */

/* A TCP connection to 127.0.0.1:port (non-blocking when asked); -1 on
 * failure. */
static int dial(int port, bool nonblock)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
        goto fail;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (nonblock && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0)
        goto fail;
    return fd;
fail:
    close(fd);
    return -1;
}

/* An answer in buf[0..len) (NUL-terminated): its total length once all of
 * it is there (0: not yet), the status, whether the server closes. */
static size_t parse_answer(const char *buf, size_t len, int *status, bool *closes)
{
    const char *end = memmem(buf, len, "\r\n\r\n", 4);
    const char *cl;
    size_t hlen;
    long body = 0;

    if (end == NULL || len < 12)
        return 0;
    hlen = (size_t)(end - buf) + 4;
    *status = (int)strtol(buf + 9, NULL, 10);
    cl = strcasestr(buf, "\r\ncontent-length:");
    if (cl != NULL && cl < end)
        body = strtol(cl + 17, NULL, 10);
    *closes = strcasestr(buf, "\r\nconnection: close") != NULL;
    return len >= hlen + (size_t)body ? hlen + (size_t)body : 0;
}

/* ---- the load loop ------------------------------------------------------ */

static void conn_watch(struct run *r, int i, bool out)
{
    struct epoll_event ev = { .events = EPOLLIN | (out ? EPOLLOUT : 0), .data.u32 = (uint32_t)i };

    epoll_ctl(r->ep, EPOLL_CTL_MOD, r->c[i].fd, &ev);
}

/* (Re)connects connection i and makes it idle; -1 when it cannot. */
static int conn_open(struct run *r, int i)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)i };
    struct conn *c = &r->c[i];

    c->fd = dial(r->o->port, true);
    if (c->fd < 0)
        return -1;
    if (epoll_ctl(r->ep, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    c->req = -1;
    c->rlen = 0;
    r->idle[r->n_idle++] = i;
    return 0;
}

/* Takes connection i off the idle stack, if it is there. */
static void idle_remove(struct run *r, int i)
{
    for (int k = 0; k < r->n_idle; k++)
        if (r->idle[k] == i) {
            r->idle[k] = r->idle[--r->n_idle];
            return;
        }
}

/* Drops connection i (a request in flight counts as an error) and
 * reconnects it. */
static void conn_lost(struct run *r, int i)
{
    struct conn *c = &r->c[i];

    if (c->req >= 0)
        r->t.errors++;
    else
        idle_remove(r, i);
    close(c->fd);
    c->fd = -1;
    c->req = -1;
    r->t.reconnects++;
    if (conn_open(r, i) != 0)
        r->n_dead++;
}

/* Writes what is left of connection i's request. */
static void conn_send(struct run *r, int i)
{
    struct conn *c = &r->c[i];
    const char *p = r->rq.buf + r->rq.off[c->req];
    size_t len = r->rq.off[c->req + 1] - r->rq.off[c->req];

    while (c->sent < len) {
        ssize_t n = send(c->fd, p + c->sent, len - c->sent, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            conn_watch(r, i, true);
            return;
        }
        if (n <= 0) {
            conn_lost(r, i);
            return;
        }
        c->sent += (size_t)n;
    }
    conn_watch(r, i, false);
}

static void conn_start(struct run *r, int i, long req, uint64_t due)
{
    struct conn *c = &r->c[i];

    c->req = req;
    c->sent = 0;
    c->rlen = 0;
    c->t_due_us = due;
    conn_send(r, i);
}

static void tally_answer(struct run *r, struct conn *c, int status, size_t total)
{
    uint64_t now = mono_us();

    r->t.lat_us[r->t.completed++] = (uint32_t)(now - c->t_due_us);
    r->t.t_last_us = now;
    c->rbuf[total] = '\0';
    if (status == 200 && strstr(c->rbuf, "\"status\":\"stored\"") != NULL)
        r->t.stored++;
    else if (status == 200 && strstr(c->rbuf, "\"status\":\"duplicate\"") != NULL)
        r->t.duplicate++;
    else
        r->t.other++;
}

/* Reads on connection i; a whole answer settles its request. */
static void conn_read(struct run *r, int i)
{
    struct conn *c = &r->c[i];
    bool closes = false;
    int status = 0;
    size_t total;

    for (;;) {
        ssize_t n = recv(c->fd, c->rbuf + c->rlen, RBUF_SIZE - 1 - c->rlen, 0);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0 || c->req < 0) {   /* closed, error, or unasked bytes */
            conn_lost(r, i);
            return;
        }
        c->rlen += (size_t)n;
        c->rbuf[c->rlen] = '\0';
        total = parse_answer(c->rbuf, c->rlen, &status, &closes);
        if (total > 0)
            break;
        if (c->rlen >= RBUF_SIZE - 1) {
            conn_lost(r, i);
            return;
        }
    }
    tally_answer(r, c, status, total);
    c->req = -1;
    if (closes) {
        r->t.reconnects++;
        close(c->fd);
        if (conn_open(r, i) != 0)
            r->n_dead++;
        return;
    }
    r->idle[r->n_idle++] = i;
}

/* Hands due requests to idle connections; the wait until the next one is
 * due (ns; -1: none pending or no idle connection). */
static long long dispatch(struct run *r)
{
    const double rate = r->o->rate;

    while (r->next < r->rq.n && r->n_idle > 0) {
        uint64_t now = mono_us();
        uint64_t due = rate > 0 ? r->t.t0_us + (uint64_t)((double)r->next * 1e6 / rate) : now;

        if (due > now)
            return (long long)(due - now) * 1000;
        conn_start(r, r->idle[--r->n_idle], r->next, due);
        r->next++;
    }
    return -1;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

static double pct_ms(const struct tally *t, double p)
{
    long i;

    if (t->completed == 0)
        return 0;
    i = (long)(p * (double)(t->completed - 1) + 0.5);
    return t->lat_us[i] / 1000.0;
}

static void print_load(const struct opts *o, struct tally *t, bool gave_up)
{
    double secs = t->t_last_us > t->t0_us ? (double)(t->t_last_us - t->t0_us) / 1e6 : 0;
    long ok = t->stored + t->duplicate;

    qsort(t->lat_us, (size_t)t->completed, sizeof(*t->lat_us), cmp_u32);
    printf("{\"requests\":%ld,\"conns\":%d,\"rate_offered\":%.0f,\"completed\":%ld,"
           "\"stored\":%ld,\"duplicate\":%ld,\"other\":%ld,\"errors\":%ld,"
           "\"reconnects\":%ld,\"gave_up\":%s,\"seconds\":%.3f,\"accepted_per_s\":%.0f,"
           "\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"max_ms\":%.3f}\n",
           o->requests, o->conns, o->rate, t->completed, t->stored, t->duplicate,
           t->other, t->errors, t->reconnects, gave_up ? "true" : "false", secs,
           secs > 0 ? (double)ok / secs : 0.0, pct_ms(t, 0.50), pct_ms(t, 0.90),
           pct_ms(t, 0.99), pct_ms(t, 0.999),
           t->completed > 0 ? t->lat_us[t->completed - 1] / 1000.0 : 0.0);
}

/* Sets up the connections and requests; 0 or -1 with a message. */
static int load_setup(struct run *r)
{
    const struct opts *o = r->o;

    if (build_all(o, &r->rq) != 0) {
        fprintf(stderr, "whload: cannot build %ld requests\n", o->requests);
        return -1;
    }
    r->c = calloc((size_t)o->conns, sizeof(*r->c));
    r->idle = calloc((size_t)o->conns, sizeof(*r->idle));
    r->t.lat_us = calloc((size_t)o->requests, sizeof(*r->t.lat_us));
    r->ep = epoll_create1(EPOLL_CLOEXEC);
    if (r->c == NULL || r->idle == NULL || r->t.lat_us == NULL || r->ep < 0) {
        fprintf(stderr, "whload: out of memory\n");
        return -1;
    }
    for (int i = 0; i < o->conns; i++)
        if (conn_open(r, i) != 0) {
            fprintf(stderr, "whload: cannot connect to 127.0.0.1:%d: %s\n", o->port,
                    strerror(errno));
            return -1;
        }
    return 0;
}

static int run_load(const struct opts *o)
{
    struct run r = { .o = o, .ep = -1 };
    struct epoll_event evs[MAX_EVENTS];
    uint64_t deadline;
    bool gave_up = false;
    int status = 1;

    if (load_setup(&r) != 0)
        goto cleanup;
    r.t.t0_us = r.t.t_last_us = mono_us();
    deadline = r.t.t0_us + (uint64_t)o->deadline_s * 1000000u;
    while (r.t.completed + r.t.errors < o->requests) {
        long long wait_ns = dispatch(&r);
        struct timespec ts = { 0, 0 };
        int n;

        if (mono_us() > deadline || r.n_dead == o->conns) {
            gave_up = true;
            break;
        }
        /* At most 100 ms between deadline checks. */
        if (wait_ns < 0 || wait_ns > 100000000LL)
            wait_ns = 100000000LL;
        ts.tv_nsec = (long)wait_ns;
        n = epoll_pwait2(r.ep, evs, MAX_EVENTS, &ts, NULL);
        if (n < 0 && errno == ENOSYS)   /* kernel before 5.11: ms resolution */
            n = epoll_wait(r.ep, evs, MAX_EVENTS, (int)((wait_ns + 999999) / 1000000));
        for (int k = 0; k < n; k++) {
            int i = (int)evs[k].data.u32;

            if (r.c[i].fd < 0)
                continue;
            if ((evs[k].events & EPOLLOUT) && r.c[i].req >= 0)
                conn_send(&r, i);
            if (r.c[i].fd >= 0 && (evs[k].events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
                conn_read(&r, i);
        }
    }
    print_load(o, &r.t, gave_up);
    status = gave_up ? 1 : 0;
cleanup:
    for (int i = 0; r.c != NULL && i < o->conns; i++)
        if (r.c[i].fd >= 0)
            close(r.c[i].fd);
    if (r.ep >= 0)
        close(r.ep);
    free(r.c);
    free(r.idle);
    free(r.t.lat_us);
    free(r.rq.buf);
    free(r.rq.off);
    return status;
}

/* ---- wait --------------------------------------------------------------- */

/* One GET path: the status, 0 when nothing answered. */
static int probe(const struct opts *o)
{
    struct timeval tv = { 1, 0 };
    char req[256], buf[64];
    size_t got = 0;
    int n, fd = dial(o->port, false);

    if (fd < 0)
        return 0;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                 "Connection: close\r\n\r\n", o->path, o->port);
    if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n)
        goto done;
    while (got < 12) {
        ssize_t k = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);

        if (k <= 0)
            break;
        got += (size_t)k;
    }
done:
    close(fd);
    buf[got] = '\0';
    return got >= 12 ? (int)strtol(buf + 9, NULL, 10) : 0;
}

static int run_wait(const struct opts *o)
{
    uint64_t deadline = mono_us() + (uint64_t)o->timeout_ms * 1000u;
    long polls = 0;
    int last = 0;

    while (mono_us() < deadline) {
        polls++;
        last = probe(o);
        if (last == 200) {
            printf("{\"ready_at_us\":%" PRIu64 ",\"polls\":%ld}\n",
                   clock_us(CLOCK_REALTIME), polls);
            return 0;
        }
        sleep_us(WAIT_POLL_US);
    }
    printf("{\"ready_at_us\":null,\"polls\":%ld,\"last_status\":%d}\n", polls, last);
    return 1;
}

/* ---- main --------------------------------------------------------------- */

static int usage(void)
{
    fprintf(stderr,
            "usage: whload load --port P [--conns N] [--requests R] [--rate RPS]\n"
            "                   [--prefix ID] [--order-base N] [--deadline-s S]\n"
            "       whload wait --port P [--path /readyz] [--timeout-ms T]\n"
            "env: WHLOAD_CLIENT_SECRET, WHLOAD_HEADER_SECRET\n");
    return 2;
}

static bool num(const char *s, double lo, double hi, double *out)
{
    char *end;

    errno = 0;
    *out = strtod(s, &end);  /* banned-ok: option values, not money */
    return errno == 0 && end != s && *end == '\0' && *out >= lo && *out <= hi;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
    static const struct option lo[] = {
        { "port", required_argument, NULL, 'p' },
        { "conns", required_argument, NULL, 'c' },
        { "requests", required_argument, NULL, 'n' },
        { "rate", required_argument, NULL, 'r' },
        { "prefix", required_argument, NULL, 'i' },
        { "order-base", required_argument, NULL, 'b' },
        { "deadline-s", required_argument, NULL, 'd' },
        { "path", required_argument, NULL, 'P' },
        { "timeout-ms", required_argument, NULL, 't' },
        { NULL, 0, NULL, 0 },
    };
    int ch;
    double v;

    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        const char *a = optarg;

        switch (ch) {
        case 'p': if (!num(a, 1, 65535, &v)) return -1; o->port = (int)v; break;
        case 'c': if (!num(a, 1, MAX_CONNS, &v)) return -1; o->conns = (int)v; break;
        case 'n': if (!num(a, 1, 1e7, &v)) return -1; o->requests = (long)v; break;
        case 'r': if (!num(a, 0, 1e7, &v)) return -1; o->rate = v; break;
        case 'i': o->prefix = a; break;
        case 'b': if (!num(a, 0, 1e15, &v)) return -1; o->order_base = (long long)v; break;
        case 'd': if (!num(a, 1, 86400, &v)) return -1; o->deadline_s = (long)v; break;
        case 'P': o->path = a; break;
        case 't': if (!num(a, 1, 3.6e6, &v)) return -1; o->timeout_ms = (long)v; break;
        default: return -1;
        }
    }
    return o->port > 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    struct opts o = {
        .conns = 16, .requests = 10000, .prefix = "whload", .order_base = 1000000,
        .deadline_s = 300, .path = "/readyz", .timeout_ms = 30000,
    };
    const char *mode = argc > 1 ? argv[1] : "";

    if (sodium_init() < 0) {
        fprintf(stderr, "whload: libsodium failed to initialise\n");
        return 2;
    }
    if (parse_opts(argc - 1, argv + 1, &o) != 0)
        return usage();
    if (strcmp(mode, "load") == 0)
        return run_load(&o);
    if (strcmp(mode, "wait") == 0)
        return run_wait(&o);
    return usage();
}
