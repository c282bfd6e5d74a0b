/*
 * The baseline of the native echo benchmark: the least a UDP echo over a TUN device can do.
 * One thread, blocking fd, plain read / swap / write: swap the IPv4 addresses and the UDP ports
 * in place and write the packet back. Swapping 16-bit words leaves both checksums valid (the
 * ones'-complement sum does not depend on order), so nothing is recomputed.
 *
 * usage: c-echo DEVICE       (attaches to an existing persistent TUN device, IFF_NO_PI)
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig) { (void) sig; stop = 1; }

static void swap_bytes(uint8_t *a, uint8_t *b, size_t n) {
    for (size_t i = 0; i < n; i++) { uint8_t t = a[i]; a[i] = b[i]; b[i] = t; }
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: %s DEVICE\n", argv[0]); return 2; }
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0) { perror("open /dev/net/tun"); return 1; }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    strncpy(ifr.ifr_name, argv[1], IFNAMSIZ - 1);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) { perror("ioctl TUNSETIFF"); return 1; }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: a signal ends the blocking read */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    printf("c-echo ready on %s\n", ifr.ifr_name);
    fflush(stdout);

    static uint8_t packet[65536];
    unsigned long echoed = 0, ignored = 0;
    while (!stop) {
        ssize_t n = read(fd, packet, sizeof packet);
        if (n < 0) {
            if (errno == EINTR) continue;
            perror("read");
            return 1;
        }
        size_t ihl = (size_t) (packet[0] & 0x0f) * 4;
        if (n < 20 || (packet[0] >> 4) != 4 || packet[9] != 17 || ihl < 20 || (size_t) n < ihl + 8) {
            ignored++; /* not IPv4/UDP: router solicitations and the like */
            continue;
        }
        swap_bytes(packet + 12, packet + 16, 4); /* source <-> destination address */
        swap_bytes(packet + ihl, packet + ihl + 2, 2); /* source <-> destination port */
        if (write(fd, packet, (size_t) n) != n) {
            if (errno == EINTR) continue;
            perror("write");
            return 1;
        }
        echoed++;
    }
    printf("c-echo stopped: echoed %lu packets, ignored %lu\n", echoed, ignored);
    return 0;
}
