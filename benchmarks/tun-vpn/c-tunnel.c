/*
 * The baseline UDP tunnel: the C twin of the examples' TunUdpTunnel (tun-vpn.jar), speaking the
 * same wire format, so either can be measured against the other. One TUN device (IFF_NO_PI), one
 * UDP socket (IPv4), one poll() loop.
 *
 * Plain: one read from the device = one datagram to the peer; one datagram from the peer = one
 * write to the device.
 *
 * "offload": the device carries a 10-byte virtio_net_hdr and every offload it takes, so reads are
 * super-packets of up to 64 KiB. Each read is cut into chunks that fit one datagram on the link,
 * each behind the 8-byte header of TunnelChunk.java (u16 magic 0x5654, u8 index, u8 count,
 * u32 sequence, big-endian), sent with UDP_SEGMENT (GSO); the socket has UDP_GRO, and the chunks
 * of one read are joined in order and written to the device in one write.
 *
 * usage: c-tunnel DEV LOCAL_IP:PORT PEER_IP:PORT [offload] [LINK_MTU]
 * prints "ready", runs until SIGTERM, prints totals.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/udp.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif
#ifndef SOL_UDP
#define SOL_UDP 17
#endif

#define HEADER 8
#define MAGIC 0x5654
#define MAX_GSO_SEGMENTS 64
#define MAX_UDP_PAYLOAD 65507

static volatile sig_atomic_t stop;
static void on_term(int sig) { (void) sig; stop = 1; }

static int attach(const char *name, int offload) {
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) { perror("open /dev/net/tun"); exit(1); }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (offload ? IFF_VNET_HDR : 0);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) { perror(name); exit(1); }
    if (offload) {
        int size = 10;
        if (ioctl(fd, TUNSETVNETHDRSZ, &size) < 0) { perror("TUNSETVNETHDRSZ"); exit(1); }
        unsigned base = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;
        if (ioctl(fd, TUNSETOFFLOAD, base | TUN_F_USO4 | TUN_F_USO6) < 0
                && ioctl(fd, TUNSETOFFLOAD, base) < 0) {
            perror("TUNSETOFFLOAD"); exit(1);
        }
    }
    return fd;
}

static struct sockaddr_in address(const char *text) {
    char host[64];
    const char *colon = strrchr(text, ':');
    if (!colon || (size_t) (colon - text) >= sizeof host) { fprintf(stderr, "IP:PORT expected: %s\n", text); exit(2); }
    memcpy(host, text, (size_t) (colon - text));
    host[colon - text] = 0;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t) atoi(colon + 1));
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1) { fprintf(stderr, "not an IPv4 literal: %s\n", host); exit(2); }
    return a;
}

/* Joins the chunks of one read; chunks come in order from one peer, a new sequence starts over. */
struct joiner {
    unsigned char buf[256 * 1500 + 65536];
    uint32_t sequence;
    int count, received, active, started;
    size_t length;
    unsigned char seen[256];
};

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: %s DEV LOCAL_IP:PORT PEER_IP:PORT [offload] [LINK_MTU]\n", argv[0]); return 2; }
    int offload = argc > 4 && strcmp(argv[4], "offload") == 0;
    int link_mtu = argc > 5 ? atoi(argv[5]) : 1500;
    int datagram = link_mtu - 28;
    if (datagram > MAX_UDP_PAYLOAD) datagram = MAX_UDP_PAYLOAD;
    int chunk = datagram - HEADER;
    int per_send = MAX_UDP_PAYLOAD / datagram < MAX_GSO_SEGMENTS ? MAX_UDP_PAYLOAD / datagram : MAX_GSO_SEGMENTS;
    struct sockaddr_in local = address(argv[2]), peer = address(argv[3]);

    int tun = attach(argv[1], offload);
    int udp = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (udp < 0) { perror("socket"); return 1; }
    int bytes = 4 << 20, on = 1;
    setsockopt(udp, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
    setsockopt(udp, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
    if (offload && setsockopt(udp, SOL_UDP, UDP_GRO, &on, sizeof on) < 0) { perror("UDP_GRO"); return 1; }
    if (bind(udp, (struct sockaddr *) &local, sizeof local) < 0) { perror("bind"); return 1; }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    static unsigned char in[65536 + 64], out[MAX_UDP_PAYLOAD + 64 * HEADER + 64];
    static struct joiner j;
    unsigned long long reads = 0, read_bytes = 0, sent = 0, received = 0, writes = 0, write_bytes = 0;
    unsigned long long foreign = 0, malformed = 0, incomplete = 0, errors = 0;
    uint32_t sequence = 0;
    printf("ready %s <-> udp %s -> %s%s\n", argv[1], argv[2], argv[3], offload ? " offload" : "");
    fflush(stdout);

    struct pollfd pfd[2] = { { tun, POLLIN, 0 }, { udp, POLLIN, 0 } };
    while (!stop) {
        if (poll(pfd, 2, -1) < 0) {
            if (errno == EINTR) continue;
            perror("poll"); return 1;
        }
        if (pfd[0].revents & (POLLIN | POLLERR | POLLHUP)) {
            for (int budget = 64; budget > 0; budget--) {
                ssize_t n = read(tun, in, sizeof in);
                if (n < 0) {
                    if (errno == EAGAIN || errno == EINTR) break;
                    perror("read"); return 1;
                }
                reads++;
                read_bytes += (unsigned long long) n;
                if (!offload) {
                    if (sendto(udp, in, (size_t) n, 0, (struct sockaddr *) &peer, sizeof peer) < 0) errors++; else sent++;
                    continue;
                }
                int count = n == 0 ? 1 : (int) ((n + chunk - 1) / chunk);
                if (count > 255) { malformed++; continue; }
                uint32_t seq = sequence++;
                for (int first = 0; first < count; first += per_send) {
                    int segments = count - first < per_send ? count - first : per_send;
                    size_t length = 0;
                    for (int i = first; i < first + segments; i++) {
                        size_t from = (size_t) i * (size_t) chunk;
                        size_t size = (size_t) n - from < (size_t) chunk ? (size_t) n - from : (size_t) chunk;
                        unsigned char *h = out + length;
                        h[0] = MAGIC >> 8; h[1] = MAGIC & 0xff; h[2] = (unsigned char) i; h[3] = (unsigned char) count;
                        h[4] = seq >> 24; h[5] = (seq >> 16) & 0xff; h[6] = (seq >> 8) & 0xff; h[7] = seq & 0xff;
                        memcpy(h + HEADER, in + from, size);
                        length += HEADER + size;
                    }
                    struct iovec iov = { out, length };
                    char control[CMSG_SPACE(sizeof(uint16_t))];
                    struct msghdr msg = { .msg_name = &peer, .msg_namelen = sizeof peer, .msg_iov = &iov, .msg_iovlen = 1 };
                    if (segments > 1) {
                        memset(control, 0, sizeof control);
                        msg.msg_control = control;
                        msg.msg_controllen = sizeof control;
                        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
                        c->cmsg_level = SOL_UDP;
                        c->cmsg_type = UDP_SEGMENT;
                        c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
                        uint16_t size = (uint16_t) datagram;
                        memcpy(CMSG_DATA(c), &size, sizeof size);
                    }
                    if (sendmsg(udp, &msg, 0) < 0) errors++; else sent += (unsigned long long) segments;
                }
            }
        }
        if (pfd[1].revents & (POLLIN | POLLERR)) {
            for (int budget = 64; budget > 0; budget--) {
                struct sockaddr_in from;
                struct iovec iov = { in, sizeof in };
                char control[CMSG_SPACE(sizeof(int))];
                struct msghdr msg = { .msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1,
                                      .msg_control = control, .msg_controllen = sizeof control };
                ssize_t n = recvmsg(udp, &msg, 0);
                if (n < 0) {
                    if (errno == EAGAIN || errno == EINTR) break;
                    errors++; break;
                }
                if (from.sin_addr.s_addr != peer.sin_addr.s_addr || from.sin_port != peer.sin_port) { foreign++; continue; }
                if (!offload) {
                    received++;
                    if (write(tun, in, (size_t) n) < 0) errors++; else { writes++; write_bytes += (unsigned long long) n; }
                    continue;
                }
                int gso = (int) n;
                for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
                    if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) { int s; memcpy(&s, CMSG_DATA(c), sizeof s); gso = s; }
                }
                for (ssize_t at = 0; at < n; at += gso) {
                    unsigned char *d = in + at;
                    size_t size = (size_t) (n - at < gso ? n - at : gso);
                    received++;
                    if (size <= HEADER || ((d[0] << 8) | d[1]) != MAGIC || d[2] >= d[3]) { malformed++; continue; }
                    int index = d[2], count = d[3];
                    uint32_t seq = ((uint32_t) d[4] << 24) | ((uint32_t) d[5] << 16) | ((uint32_t) d[6] << 8) | d[7];
                    if (!j.started || seq != j.sequence) {
                        if (j.active) incomplete++;
                        j.started = 1; j.active = 1; j.sequence = seq; j.count = count; j.received = 0; j.length = 0;
                        memset(j.seen, 0, sizeof j.seen);
                    } else if (!j.active || j.seen[index] || count != j.count) {
                        malformed++; continue;
                    }
                    size_t offset = (size_t) index * (size_t) chunk;
                    if (offset + size - HEADER > sizeof j.buf) { malformed++; continue; }
                    memcpy(j.buf + offset, d + HEADER, size - HEADER);
                    if (offset + size - HEADER > j.length) j.length = offset + size - HEADER;
                    j.seen[index] = 1;
                    if (++j.received == j.count) {
                        j.active = 0;
                        if (write(tun, j.buf, j.length) < 0) errors++; else { writes++; write_bytes += j.length; }
                    }
                }
            }
        }
    }
    printf("tunnelled %s -> peer: %llu reads, %llu bytes, %llu datagrams; peer -> %s: %llu datagrams, %llu writes,"
           " %llu bytes; dropped: %llu from elsewhere, %llu malformed, %llu incomplete; errors %llu\n",
           argv[1], reads, read_bytes, sent, argv[1], received, writes, write_bytes, foreign, malformed, incomplete, errors);
    return 0;
}
