/* Test helper for the network tests:
 *   net_tool port                       print a free loopback TCP port
 *   net_tool send DEST DEAD N FILE...   sp_net_send_retry (N attempts)
 *   net_tool junk PORT KIND             send a malformed association
 *                                       (text, huge, short) and wait
 *                                       until the listener hangs up
 * Exit code 0 on success, the status' exit code otherwise. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "net/net.h"
#include "spinepipe/dicom.h"

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
        perror("net_tool port");
        return 1;
    }
    printf("%d\n", ntohs(sa.sin_port));
    close(fd);
    return 0;
}

/* Exit 0 when the peer closed the connection within 30 s. */
static int junk(int port, const char *kind)
{
    /* A-ASSOCIATE-RQ header claiming 2 GB; then a too short RQ. */
    static const unsigned char huge[] = {0x01, 0, 0x7f, 0xff, 0xff, 0xff,
                                         0, 1, 0, 0};
    static const unsigned char shrt[] = {0x01, 0, 0, 0, 0, 4, 0, 1, 0, 0};
    const char *text = "GET / HTTP/1.0\r\n\r\n";
    const void *buf = text;
    size_t len = strlen(text);
    if (strcmp(kind, "huge") == 0) {
        buf = huge;
        len = sizeof huge;
    } else if (strcmp(kind, "short") == 0) {
        buf = shrt;
        len = sizeof shrt;
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {30, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        write(fd, buf, len) != (ssize_t)len) {
        perror("net_tool junk");
        return 1;
    }
    char reply[512];
    ssize_t n;
    while ((n = read(fd, reply, sizeof reply)) > 0)
        ;
    close(fd);
    if (n < 0 && errno != ECONNRESET)
        perror("net_tool junk: read");
    return n == 0 || errno == ECONNRESET ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "port") == 0)
        return free_port();
    if (argc == 4 && strcmp(argv[1], "junk") == 0)
        return junk(atoi(argv[2]), argv[3]);
    if (argc < 6 || strcmp(argv[1], "send") != 0) {
        fprintf(stderr, "usage: net_tool port | net_tool send "
                        "AET@HOST:PORT DEAD_DIR ATTEMPTS FILE...\n");
        return 64;
    }
    sp_error err;
    sp_net_peer dest;
    if (sp_net_parse_peer(argv[2], &dest, &err) != SP_OK ||
        sp_dicom_init(&err) != SP_OK) {
        fprintf(stderr, "net_tool: %s\n", err.message);
        return sp_status_exit_code(err.code);
    }
    sp_status st = sp_net_send_retry(&dest, "SPINEPIPE",
                                      (const char *const *)argv + 5,
                                      (size_t)(argc - 5), atoi(argv[4]), 0.2,
                                      argv[3], &err);
    sp_dicom_cleanup();
    if (st != SP_OK) {
        fprintf(stderr, "net_tool: %s\n", err.message);
        return sp_status_exit_code(st);
    }
    return 0;
}
