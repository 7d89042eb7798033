/* Fuzz target: the DICOM network receive path of `spinepipe listen`. The
 * real listener (sp_listen: accept loop, DCMTK association handling, our
 * C-STORE SCP, the spool) runs in a thread on a loopback port with a
 * scratch spool; each input goes over a TCP connection to it, and the
 * target waits until the listener hangs up. The first byte picks what
 * the rest is:
 *   even: a C-STORE data set. The target sends a valid A-ASSOCIATE-RQ (CT
 *         Image Storage, explicit VR little endian), a C-STORE-RQ command
 *         for SOP instance 1.2.3.4, the input as the data set in P-DATA
 *         fragments, and A-RELEASE-RQ. This reaches DCMTK's data set
 *         parser on a received stream and our checks and spooling.
 *   odd:  raw bytes from the first PDU on (association negotiation, PDU
 *         framing, anything a hostile peer sends).
 * Coverage guidance sees only our code (DCMTK is Debian's uninstrumented
 * build), so most of the parsing is exercised blind; the sanitizers still
 * watch all of it. Jobs are not run (the job function fails at once).
 * FUZZ_LOG=info (a log level spec) shows what the listener did. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "engine/log.h"
#include "fuzz.h"
#include "net/net.h"

#define CT_STORAGE "1.2.840.10008.5.1.4.1.1.2"
#define EXPLICIT_LE "1.2.840.10008.1.2.1"
#define SOP_INSTANCE "1.2.3.4"
#define MAX_PDV 16000u

static volatile sig_atomic_t stop_flag;
static pthread_t listener_thread;
static int port;
static char spool[512];
static const char *allowed[] = {"FUZZER"};
static sp_listen_options opts;

static sp_status no_job(void *user, const char *id, const char *series_dir,
                        const char *out_dir, sp_error *err)
{
    return sp_error_set(err, SP_INTERNAL, "jobs are not run while fuzzing");
}

static void *listen_thread(void *arg)
{
    sp_error err;
    if (sp_listen(&opts, &err) != SP_OK)
        fprintf(stderr, "fuzz_net_receive: listener: %s\n", err.message);
    return NULL;
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    int p = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
        p = ntohs(sa.sin_port);
    if (fd >= 0)
        close(fd);
    return p;
}

static int connect_listener(void)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int tries = 0; tries < 200; tries++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return -1;
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
            return fd;
        close(fd);
        struct timespec t = {0, 20 * 1000 * 1000};
        nanosleep(&t, NULL);
    }
    return -1;
}

static void shutdown_listener(void)
{
    stop_flag = 1;
    pthread_join(listener_thread, NULL);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    sp_error err;
    sp_log_set_levels(getenv("FUZZ_LOG") ? getenv("FUZZ_LOG") : "error", &err);
    snprintf(spool, sizeof spool, "%s/spool", fuzz_scratch_dir());
    port = free_port();
    if (port < 0)
        abort();
    opts.aet = "SPINEPIPE";
    opts.port = port;
    opts.allowed_aets = allowed;
    opts.n_allowed_aets = 1;
    opts.spool = spool;
    opts.quiet_seconds = 1;
    opts.max_associations = 4;
    opts.idle_timeout = 2;
    opts.jobs = 1;
    opts.run_job = no_job;
    opts.send_attempts = 1;
    opts.stop = &stop_flag;
    if (pthread_create(&listener_thread, NULL, listen_thread, NULL) != 0)
        abort();
    atexit(shutdown_listener);
    int fd = connect_listener();
    if (fd < 0)
        abort();
    close(fd);
    return 0;
}

/* A growable byte buffer for the PDUs of one input. */
typedef struct bytes {
    uint8_t *p;
    size_t n, cap;
} bytes;

static void put(bytes *b, const void *data, size_t n)
{
    if (n == 0)
        return;
    if (b->n + n > b->cap) {
        size_t cap = (b->n + n) * 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p)
            abort();
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, data, n);
    b->n += n;
}

static void put8(bytes *b, unsigned v)
{
    uint8_t x = (uint8_t)v;
    put(b, &x, 1);
}

static void put16be(bytes *b, unsigned v)
{
    put8(b, v >> 8);
    put8(b, v);
}

static void put32be(bytes *b, uint32_t v)
{
    put16be(b, v >> 16);
    put16be(b, v & 0xffff);
}

static void put_le(bytes *b, uint32_t v, int n)
{
    for (int i = 0; i < n; i++)
        put8(b, (v >> (8 * i)) & 0xff);
}

static void put_item(bytes *b, unsigned type, const char *uid)
{
    put8(b, type);
    put8(b, 0);
    put16be(b, (unsigned)strlen(uid));
    put(b, uid, strlen(uid));
}

static void put_ae(bytes *b, const char *ae)
{
    char field[16];
    memset(field, ' ', sizeof field);
    memcpy(field, ae, strlen(ae));
    put(b, field, sizeof field);
}

static void associate_rq(bytes *out)
{
    bytes v = {0};
    put16be(&v, 1);
    put16be(&v, 0);
    put_ae(&v, "SPINEPIPE");
    put_ae(&v, "FUZZER");
    uint8_t reserved[32] = {0};
    put(&v, reserved, sizeof reserved);
    put_item(&v, 0x10, "1.2.840.10008.3.1.1.1");
    bytes pc = {0};
    put8(&pc, 1);
    put8(&pc, 0);
    put8(&pc, 0);
    put8(&pc, 0);
    put_item(&pc, 0x30, CT_STORAGE);
    put_item(&pc, 0x40, EXPLICIT_LE);
    put8(&v, 0x20);
    put8(&v, 0);
    put16be(&v, (unsigned)pc.n);
    put(&v, pc.p, pc.n);
    bytes ui = {0};
    put8(&ui, 0x51);
    put8(&ui, 0);
    put16be(&ui, 4);
    put32be(&ui, 16384);
    put_item(&ui, 0x52, "1.2.3.4.5.6");
    put8(&v, 0x50);
    put8(&v, 0);
    put16be(&v, (unsigned)ui.n);
    put(&v, ui.p, ui.n);
    put8(out, 0x01);
    put8(out, 0);
    put32be(out, (uint32_t)v.n);
    put(out, v.p, v.n);
    free(v.p);
    free(pc.p);
    free(ui.p);
}

/* One implicit VR little endian element of group 0000. */
static void cmd_element(bytes *b, unsigned element, const void *value,
                        uint32_t len)
{
    put_le(b, 0x0000, 2);
    put_le(b, element, 2);
    put_le(b, len, 4);
    put(b, value, len);
}

static void cmd_uid(bytes *b, unsigned element, const char *uid)
{
    char v[66] = {0};
    size_t n = strlen(uid);
    memcpy(v, uid, n);
    cmd_element(b, element, v, (uint32_t)(n + (n & 1)));
}

static void cmd_us(bytes *b, unsigned element, unsigned value)
{
    uint8_t v[2] = {(uint8_t)(value & 0xff), (uint8_t)(value >> 8)};
    cmd_element(b, element, v, 2);
}

static void pdv(bytes *out, unsigned control, const uint8_t *data, size_t n)
{
    put8(out, 0x04);
    put8(out, 0);
    put32be(out, (uint32_t)(n + 6));
    put32be(out, (uint32_t)(n + 2));
    put8(out, 1); /* presentation context */
    put8(out, control);
    put(out, data, n);
}

static void store_request(bytes *out, const uint8_t *ds, size_t n)
{
    bytes body = {0};
    cmd_uid(&body, 0x0002, CT_STORAGE);
    cmd_us(&body, 0x0100, 0x0001);
    cmd_us(&body, 0x0110, 1);
    cmd_us(&body, 0x0700, 0);
    cmd_us(&body, 0x0800, 0x0000);
    cmd_uid(&body, 0x1000, SOP_INSTANCE);
    bytes cmd = {0};
    uint8_t glen[4];
    for (int i = 0; i < 4; i++)
        glen[i] = (uint8_t)((body.n >> (8 * i)) & 0xff);
    cmd_element(&cmd, 0x0000, glen, 4);
    put(&cmd, body.p, body.n);
    pdv(out, 0x03, cmd.p, cmd.n);
    size_t off = 0;
    do {
        size_t chunk = n - off > MAX_PDV ? MAX_PDV : n - off;
        pdv(out, off + chunk == n ? 0x02 : 0x00, ds + off, chunk);
        off += chunk;
    } while (off < n);
    free(body.p);
    free(cmd.p);
    static const uint8_t release[] = {0x05, 0, 0, 0, 0, 4, 0, 0, 0, 0};
    put(out, release, sizeof release);
}

/* Send everything, then read until the listener closes (or 10 s pass:
 * the replay driver reports that as a hang). */
static void exchange(const uint8_t *msg, size_t n)
{
    int fd = connect_listener();
    if (fd < 0)
        abort();
    size_t off = 0;
    while (off < n) {
        ssize_t w = send(fd, msg + off, n - off, MSG_NOSIGNAL);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    shutdown(fd, SHUT_WR);
    uint8_t buf[4096];
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 10000) <= 0)
            break;
        if (recv(fd, buf, sizeof buf, 0) <= 0)
            break;
    }
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    bytes msg = {0};
    if ((data[0] & 1) == 0) {
        associate_rq(&msg);
        store_request(&msg, data + 1, size - 1);
    } else {
        put(&msg, data + 1, size - 1);
    }
    if (msg.n)
        exchange(msg.p, msg.n);
    free(msg.p);
    return 0;
}
