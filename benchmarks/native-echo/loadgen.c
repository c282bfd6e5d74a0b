/*
 * Load generator of the native echo benchmark: a kernel UDP socket keeps WINDOW datagrams in
 * flight to an echo for SECONDS and reports echoed packets per second and latency percentiles.
 *
 * Each datagram carries its sequence number and send time (CLOCK_MONOTONIC ns) in its first 16
 * bytes. A reply frees a slot and the next datagram goes out at once. A datagram unanswered
 * for 200 ms counts as lost and its slot is refilled, so a lossy echo shows up as a lower rate
 * and a loss count instead of a stall.
 *
 * usage: loadgen DEST_IP DEST_PORT PAYLOAD_BYTES WINDOW SECONDS LABEL
 * prints: RESULT label=... size=... window=... seconds=... sent=... received=... lost=... pps=...
 *         p50_us=... p90_us=... p99_us=... p999_us=...
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SAMPLES (1 << 24)

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

static int compare_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;
    return x < y ? -1 : x > y;
}

static double percentile_us(uint32_t *sorted_ns, size_t n, double p) {
    if (n == 0) return 0;
    size_t i = (size_t) (p * (double) (n - 1));
    return sorted_ns[i] / 1000.0;
}

int main(int argc, char **argv) {
    if (argc != 7) {
        fprintf(stderr, "usage: %s DEST_IP DEST_PORT PAYLOAD_BYTES WINDOW SECONDS LABEL\n", argv[0]);
        return 2;
    }
    const char *label = argv[6];
    int size = atoi(argv[3]), window = atoi(argv[4]);
    double seconds = atof(argv[5]);
    if (size < 16 || size > 65507 || window < 1) { fprintf(stderr, "payload >= 16 bytes, window >= 1\n"); return 2; }

    struct sockaddr_in dest;
    memset(&dest, 0, sizeof dest);
    dest.sin_family = AF_INET;
    dest.sin_port = htons((uint16_t) atoi(argv[2]));
    if (inet_pton(AF_INET, argv[1], &dest.sin_addr) != 1) { fprintf(stderr, "bad address\n"); return 2; }
    int sock = socket(AF_INET, SOCK_DGRAM, 0);
    if (sock < 0 || connect(sock, (struct sockaddr *) &dest, sizeof dest) < 0) { perror("socket/connect"); return 1; }
    int rcvbuf = 4 << 20;
    setsockopt(sock, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    struct timeval timeout = { 0, 200 * 1000 };
    setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);

    uint8_t *out = calloc(1, (size_t) size), *in = calloc(1, 65536);
    uint32_t *samples = malloc(sizeof(uint32_t) * MAX_SAMPLES);
    size_t sampled = 0;
    uint64_t sequence = 0, received = 0, lost = 0, in_flight = 0;
    uint64_t start = now_ns(), end = start + (uint64_t) (seconds * 1e9);

    for (;;) {
        uint64_t now = now_ns();
        while (in_flight < (uint64_t) window && now < end) {
            memcpy(out, &sequence, 8);
            memcpy(out + 8, &now, 8);
            if (send(sock, out, (size_t) size, 0) < 0) {
                if (errno == EINTR) continue;
                if (errno == ENOBUFS || errno == EAGAIN) break;
                perror("send");
                return 1;
            }
            sequence++;
            in_flight++;
        }
        if (now >= end && in_flight == 0) break;
        ssize_t n = recv(sock, in, 65536, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                /* 200 ms of silence: what is in flight is lost */
                lost += in_flight;
                in_flight = 0;
                if (now_ns() >= end) break;
                continue;
            }
            perror("recv");
            return 1;
        }
        uint64_t sent_at;
        if (n != size) { fprintf(stderr, "echo returned %zd bytes, sent %d\n", n, size); return 1; }
        memcpy(&sent_at, in + 8, 8);
        if (now_ns() <= end) {
            received++;
            if (sampled < MAX_SAMPLES) samples[sampled++] = (uint32_t) (now_ns() - sent_at);
        }
        if (in_flight > 0) in_flight--;
    }
    double elapsed = seconds;
    qsort(samples, sampled, sizeof(uint32_t), compare_u32);
    printf("RESULT label=%s size=%d window=%d seconds=%.1f sent=%llu received=%llu lost=%llu pps=%.0f "
           "p50_us=%.1f p90_us=%.1f p99_us=%.1f p999_us=%.1f\n",
           label, size, window, elapsed, (unsigned long long) sequence, (unsigned long long) received,
           (unsigned long long) lost, received / elapsed,
           percentile_us(samples, sampled, 0.50), percentile_us(samples, sampled, 0.90),
           percentile_us(samples, sampled, 0.99), percentile_us(samples, sampled, 0.999));
    return 0;
}
