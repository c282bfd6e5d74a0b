package org.tuntap.codec.ndp;

/**
 * The IPv6 multicast addresses neighbour discovery uses, and how any IPv6 multicast address maps
 * to an Ethernet group address (RFC 2464 section 7). Addresses are two big-endian longs, as
 * {@code Ipv6Addresses} and {@code Ipv6Header} read them.
 */
public final class Ipv6Multicast {

    /** High 64 bits of {@code ff02::1} (all nodes) and of every solicited-node address {@code ff02::1:ffXX:XXXX}. */
    public static final long LINK_LOCAL_HIGH = 0xFF02_0000_0000_0000L;
    /** Low 64 bits of {@code ff02::1}, all nodes on the link. */
    public static final long ALL_NODES_LOW = 1;
    private static final long SOLICITED_NODE_PREFIX_LOW = 0x0000_0001_FF00_0000L;

    private Ipv6Multicast() {
    }

    /** Whether the address whose high 64 bits these are is multicast ({@code ff00::/8}). */
    public static boolean isMulticast(long high) {
        return (high >>> 56) == 0xFF;
    }

    /** The low 64 bits of the solicited-node address of a unicast address: {@code ff02::1:ff} and its low 24 bits (RFC 4291 2.7.1). */
    public static long solicitedNodeLow(long unicastLow) {
        return SOLICITED_NODE_PREFIX_LOW | (unicastLow & 0xFF_FFFFL);
    }

    /** Whether the address is a solicited-node multicast address. */
    public static boolean isSolicitedNode(long high, long low) {
        return high == LINK_LOCAL_HIGH && (low & ~0xFF_FFFFL) == SOLICITED_NODE_PREFIX_LOW;
    }

    /** The Ethernet address of an IPv6 multicast address: {@code 33:33} and its low 32 bits (as {@code MacAddress.bits()}). */
    public static long macAddress(long multicastLow) {
        return 0x3333_0000_0000L | (multicastLow & 0xFFFF_FFFFL);
    }
}
