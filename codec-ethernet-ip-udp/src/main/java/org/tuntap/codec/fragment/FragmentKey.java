package org.tuntap.codec.fragment;

/**
 * What identifies the fragments of one datagram: for IPv4 source, destination, protocol and
 * identification (RFC 791); for IPv6 source, destination and the fragment header's
 * identification (RFC 8200 section 4.5). Addresses as longs: an IPv4 address in the low 32 bits
 * of {@code sourceLow}/{@code destinationLow}, an IPv6 address as its two halves.
 */
public record FragmentKey(boolean ipv6, long sourceHigh, long sourceLow, long destinationHigh, long destinationLow,
                          int identification, int protocol) {

    /** An IPv4 datagram's key; addresses as big-endian ints. */
    public static FragmentKey ipv4(int source, int destination, int protocol, int identification) {
        return new FragmentKey(false, 0, source & 0xFFFF_FFFFL, 0, destination & 0xFFFF_FFFFL, identification & 0xFFFF,
                protocol & 0xFF);
    }

    /** An IPv6 datagram's key (the protocol is not part of it). */
    public static FragmentKey ipv6(long sourceHigh, long sourceLow, long destinationHigh, long destinationLow,
                                   int identification) {
        return new FragmentKey(true, sourceHigh, sourceLow, destinationHigh, destinationLow, identification, 0);
    }
}
