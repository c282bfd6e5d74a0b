package org.tuntap.transport;

import org.tuntap.transport.spi.TunIoctl;

import java.util.EnumSet;
import java.util.Set;

/**
 * An offload a {@link TunChannel} with {@link TunChannelOption#VNET_HDR} can ask the kernel for
 * ({@code TUNSETOFFLOAD}): each one lets the kernel hand the channel packets it has not finished,
 * described by the {@code virtio_net_hdr} in front of them.
 *
 * <p>The kernel's rules: {@link #TSO4}, {@link #TSO6}, {@link #USO4} and {@link #USO6} need
 * {@link #CSUM}; {@link #TSO_ECN} needs TSO4 or TSO6; USO4 and USO6 go together (Linux 6.2+).
 * A set breaking them is refused by the kernel and the channel falls back (see
 * {@link TunChannelConfig#getAppliedOffloads()}).
 */
public enum TunOffload {
    /** Checksum offload: packets may arrive with a partial checksum ({@code NEEDS_CSUM}). */
    CSUM(TunIoctl.TUN_F_CSUM),
    /** IPv4 TCP segmentation offload: TCP super-packets of up to 64 KiB. */
    TSO4(TunIoctl.TUN_F_TSO4),
    /** IPv6 TCP segmentation offload. */
    TSO6(TunIoctl.TUN_F_TSO6),
    /** TCP super-packets with ECN's CWR flag (the header's {@code GSO_ECN} bit). */
    TSO_ECN(TunIoctl.TUN_F_TSO_ECN),
    /** IPv4 UDP segmentation offload (Linux 6.2+). */
    USO4(TunIoctl.TUN_F_USO4),
    /** IPv6 UDP segmentation offload (Linux 6.2+). */
    USO6(TunIoctl.TUN_F_USO6);

    private final int flag;

    TunOffload(int flag) {
        this.flag = flag;
    }

    /** This offload's {@code TUN_F_*} bit. */
    public int flag() {
        return flag;
    }

    /** The {@code TUNSETOFFLOAD} argument for a set of offloads. */
    public static int flags(Set<TunOffload> offloads) {
        int flags = 0;
        for (TunOffload offload : offloads) {
            flags |= offload.flag;
        }
        return flags;
    }

    /** The offloads whose bits are set in {@code flags} (unknown bits are ignored). */
    public static EnumSet<TunOffload> fromFlags(int flags) {
        EnumSet<TunOffload> offloads = EnumSet.noneOf(TunOffload.class);
        for (TunOffload offload : values()) {
            if ((flags & offload.flag) != 0) {
                offloads.add(offload);
            }
        }
        return offloads;
    }
}
