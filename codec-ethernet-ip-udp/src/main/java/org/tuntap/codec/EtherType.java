package org.tuntap.codec;

/** Ethertype numbers used by this module (IEEE 802 numbers, big-endian on the wire). */
public final class EtherType {
    /** IPv4. */
    public static final int IPV4 = 0x0800;
    /** ARP. */
    public static final int ARP = 0x0806;
    /** An 802.1Q VLAN tag. */
    public static final int VLAN = 0x8100;
    /** An 802.1ad (QinQ) service tag. */
    public static final int QINQ = 0x88A8;
    /** IPv6. */
    public static final int IPV6 = 0x86DD;

    private EtherType() {
    }
}
