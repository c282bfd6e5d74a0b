package org.tuntap.codec;

/**
 * Why a codec dropped an inbound packet (or, for {@link #UNRESOLVED}, {@link #UNROUTABLE} and
 * {@link #FRAGMENTATION_NEEDED}, an outbound one). One list for every layer, so counters read the same everywhere.
 */
public enum DropReason {
    /** Shorter than the header of its layer. */
    TRUNCATED,
    /** The kernel cut the packet to fit the read buffer ({@code TUN_PKT_STRIP} in the PI header). */
    STRIPPED_BY_KERNEL,
    /** IP version nibble not 4 where IPv4 was expected (and not 6). */
    BAD_VERSION,
    /** IPv4 IHL below 5, or a header longer than the packet. */
    BAD_HEADER_LENGTH,
    /**
     * A length field (IPv4 total length, UDP length) larger than the data or smaller than its
     * header; this is how most truncations of a valid packet show.
     */
    BAD_LENGTH,
    /** IPv4 header checksum or UDP checksum wrong. */
    BAD_CHECKSUM,
    /** A source address no host sends from (multicast, broadcast, loopback, unspecified): Linux's martians. */
    MARTIAN,
    /** An IPv4 or IPv6 fragment (more-fragments flag or non-zero offset) where the codec does not pass them on. */
    FRAGMENT,
    /** An IPv6 packet where the IPv4 codec is configured to drop them. */
    IPV6,
    /** An 802.1Q / 802.1ad tagged frame where the Ethernet codec is configured to drop them. */
    VLAN_TAGGED,
    /** A TAP frame to another host's unicast MAC address (the kernel's {@code PACKET_OTHERHOST}). */
    OTHER_HOST,
    /** Not a dropped packet: a neighbour not learned because the neighbour table was full. */
    NEIGHBOUR_TABLE_FULL,
    /** An ARP packet for other hardware or protocol types than Ethernet/IPv4, or an odd operation. */
    UNSUPPORTED_ARP,
    /**
     * A neighbour solicitation or advertisement RFC 4861 section 7.1 says to ignore: hop limit not
     * 255 (it crossed a router), code not 0, a multicast target or source, an option of length 0
     * or running past the message, a link-layer option of the wrong size or given twice, a
     * duplicate address detection probe not to a solicited-node address or with a link-layer
     * option, a solicited advertisement to a multicast address.
     */
    BAD_NEIGHBOUR_DISCOVERY,
    /** Outbound IP to a destination whose MAC address is not known yet (an ARP request or neighbour solicitation went out). */
    UNRESOLVED,
    /** Outbound packet the ARP layer cannot address (neither IPv4 nor IPv6). */
    UNROUTABLE,
    /**
     * Outbound: an IPv4 packet larger than the codec's MTU with DF (don't fragment) set, or an
     * IPv6 packet over the MTU that cannot be fragmented (a fragment already, or headers that leave
     * no room for data); not sent.
     */
    FRAGMENTATION_NEEDED,
    /** Not the protocol a parser was asked for (e.g. {@code UdpPackets.parse} of a TCP packet). */
    WRONG_PROTOCOL,
    /**
     * A malformed IPv6 extension header chain: hop-by-hop options anywhere but first, a second
     * fragment header, or a fragment whose length or offset is impossible.
     */
    BAD_EXTENSION_HEADER,
    /** An IPv6 extension header chain longer (in headers or bytes) than the codec's limits. */
    EXTENSION_LIMIT,
    /** Reassembly: a fragment overlapping another of its datagram; the whole datagram is dropped (RFC 5722, Linux for IPv4). */
    FRAGMENT_OVERLAP,
    /** Reassembly: a fragment received twice (same offset and length); the copy is dropped. */
    FRAGMENT_DUPLICATE,
    /**
     * Reassembly: fragments that disagree on the datagram's length (two last fragments, data
     * beyond the last, a non-last fragment not a multiple of 8 bytes, more than 65535 bytes); the
     * whole datagram is dropped.
     */
    FRAGMENT_INCONSISTENT,
    /** Reassembly: a datagram not complete within the timeout; counted once per datagram. */
    REASSEMBLY_TIMEOUT,
    /** Reassembly: a fragment refused because the bytes held or the fragments per datagram would exceed the limits. */
    REASSEMBLY_LIMIT,
    /**
     * A virtio-net header that does not fit its packet: gso_size 0 on a super-packet, a gso_type
     * for another IP version or transport protocol than the packet's, the ECN bit on a UDP
     * super-packet, or csum_start/csum_offset outside the packet (or, on a super-packet, not at
     * the TCP/UDP checksum field).
     */
    BAD_VNET_HEADER,
    /**
     * A super-packet the segmenter does not split: legacy UDP fragmentation offload (GSO_UDP),
     * an unknown gso_type, or IPv6 extension headers before the TCP/UDP header.
     */
    UNSUPPORTED_GSO
}
