package org.tuntap.transport;

import org.tuntap.transport.spi.TunIoctl;

/** Which layer a device works at. */
public enum TunMode {
    /** Layer 3: the channel reads and writes IP packets ({@code IFF_TUN}). */
    TUN(TunIoctl.IFF_TUN),
    /** Layer 2: the channel reads and writes Ethernet frames ({@code IFF_TAP}). */
    TAP(TunIoctl.IFF_TAP);

    private final int flag;

    TunMode(int flag) {
        this.flag = flag;
    }

    /** The {@code TUNSETIFF} flag for this mode. */
    public int flag() {
        return flag;
    }

    /** The kernel's name template for this mode: {@code tun%d} or {@code tap%d}. */
    public String defaultNameTemplate() {
        return this == TUN ? "tun%d" : "tap%d";
    }
}
