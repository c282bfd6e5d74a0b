/*
 * The baseline forwarder: attaches to two existing TUN devices (IFF_NO_PI) and writes every
 * packet read from one to the other, in one poll() loop, one read and one write per packet.
 * With "offload" both fds carry a 10-byte virtio_net_hdr and ask for CSUM|TSO4|TSO6|TSO_ECN
 * (and USO where the kernel takes it), so super-packets cross whole, header and all.
 *
 * usage: c-forward DEV_A DEV_B [offload]; prints "ready", runs until SIGTERM, prints totals.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif

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

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: %s DEV_A DEV_B [offload]\n", argv[0]); return 2; }
    int offload = argc > 3 && strcmp(argv[3], "offload") == 0;
    int fd[2] = { attach(argv[1], offload), attach(argv[2], offload) };
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    static unsigned char buf[65536 + 64];
    unsigned long long packets[2] = {0, 0}, bytes[2] = {0, 0}, drops = 0;
    printf("ready %s <-> %s%s\n", argv[1], argv[2], offload ? " offload" : "");
    fflush(stdout);
    struct pollfd pfd[2] = { { fd[0], POLLIN, 0 }, { fd[1], POLLIN, 0 } };
    while (!stop) {
        if (poll(pfd, 2, -1) < 0) {
            if (errno == EINTR) continue;
            perror("poll"); return 1;
        }
        for (int i = 0; i < 2; i++) {
            if (!(pfd[i].revents & (POLLIN | POLLERR | POLLHUP))) continue;
            for (int budget = 64; budget > 0; budget--) {
                ssize_t n = read(fd[i], buf, sizeof buf);
                if (n < 0) {
                    if (errno == EAGAIN || errno == EINTR) break;
                    perror("read"); return 1;
                }
                if (write(fd[1 - i], buf, (size_t) n) < 0) { drops++; continue; }
                packets[i]++;
                bytes[i] += (unsigned long long) n;
            }
        }
    }
    printf("forwarded %s -> %s: %llu packets, %llu bytes; %s -> %s: %llu packets, %llu bytes; write errors %llu\n",
           argv[1], argv[2], packets[0], bytes[0], argv[2], argv[1], packets[1], bytes[1], drops);
    return 0;
}
