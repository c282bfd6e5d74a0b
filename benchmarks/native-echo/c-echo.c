/*
 * The baseline of the native echo benchmark: the least a UDP echo over a TUN device can do.
 * One thread, blocking fd, plain read / swap / write: swap the IPv4 addresses and the UDP ports
 * in place and write the packet back. Swapping 16-bit words leaves both checksums valid (the
 * ones'-complement sum does not depend on order), so nothing is recomputed.
 *
 * In TAP mode the packet is an Ethernet frame: the MAC addresses are swapped too, frames that
 * are not IPv4 are ignored, and nothing answers ARP (the benchmark gives the kernel a static
 * neighbour entry for the echo's address).
 *
 * usage: c-echo DEVICE [tap]  (attaches to an existing persistent TUN or TAP device, IFF_NO_PI)
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
    if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "tap") != 0)) {
        fprintf(stderr, "usage: %s DEVICE [tap]\n", argv[0]);
        return 2;
    }
    int tap = argc == 3;
    size_t link = tap ? 14 : 0; /* Ethernet header in front of the IPv4 packet */
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0) { perror("open /dev/net/tun"); return 1; }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = (tap ? IFF_TAP : IFF_TUN) | IFF_NO_PI;
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
        uint8_t *ip = packet + link;
        size_t ihl = (size_t) (ip[0] & 0x0f) * 4;
        if ((size_t) n < link + 20 || (tap && (packet[12] != 0x08 || packet[13] != 0x00))
                || (ip[0] >> 4) != 4 || ip[9] != 17 || ihl < 20 || (size_t) n < link + ihl + 8) {
            ignored++; /* not IPv4/UDP: router solicitations, ARP and the like */
            continue;
        }
        if (tap) swap_bytes(packet, packet + 6, 6); /* destination <-> source MAC */
        swap_bytes(ip + 12, ip + 16, 4); /* source <-> destination address */
        swap_bytes(ip + ihl, ip + ihl + 2, 2); /* source <-> destination port */
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
