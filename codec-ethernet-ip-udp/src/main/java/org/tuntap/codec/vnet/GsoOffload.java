package org.tuntap.codec.vnet;

import java.util.EnumSet;
import java.util.Set;

/**
 * The segmentation offloads a writer may use on a channel with the transport's {@code VNET_HDR}
 * option: super-packets the kernel takes and segments itself. The names are those of the
 * transport's {@code TunOffload}, so the set the kernel accepted at bind maps over by name
 * ({@link #fromNames}) without this module depending on the transport.
 */
public enum GsoOffload {
    /** IPv4 TCP super-packets (virtio-net {@code GSO_TCPV4}). */
    TSO4,
    /** IPv6 TCP super-packets ({@code GSO_TCPV6}). */
    TSO6,
    /** IPv4 UDP super-packets ({@code GSO_UDP_L4}; Linux 6.2+). */
    USO4,
    /** IPv6 UDP super-packets ({@code GSO_UDP_L4}; Linux 6.2+). */
    USO6;

    /**
     * The segmentation offloads among {@code offloads} matched by name, say the transport's
     * {@code tun.config().getAppliedOffloads()}; other names ({@code CSUM}, {@code TSO_ECN}) are
     * not segmentation offloads and are left out.
     */
    public static Set<GsoOffload> fromNames(Iterable<? extends Enum<?>> offloads) {
        EnumSet<GsoOffload> result = EnumSet.noneOf(GsoOffload.class);
        for (Enum<?> offload : offloads) {
            for (GsoOffload gso : values()) {
                if (gso.name().equals(offload.name())) {
                    result.add(gso);
                }
            }
        }
        return result;
    }
}
