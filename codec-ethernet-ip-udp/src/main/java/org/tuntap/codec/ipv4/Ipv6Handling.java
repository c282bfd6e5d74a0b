package org.tuntap.codec.ipv4;

/** What {@link Ipv4Codec} does with an IPv6 packet (version nibble 6 or ethertype 0x86DD). */
public enum Ipv6Handling {
    /** Pass it on untouched, as it arrived, for an IPv6 handler further up. */
    PASS,
    /** Drop and count it ({@code DropReason.IPV6}). */
    DROP
}
