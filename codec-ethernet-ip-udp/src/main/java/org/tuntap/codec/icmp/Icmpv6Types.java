package org.tuntap.codec.icmp;

/** ICMPv6 type numbers (RFC 4443, RFC 4861) this module knows. */
public final class Icmpv6Types {
    /** IPv6 next header of ICMPv6. */
    public static final int NEXT_HEADER = 58;

    public static final int DESTINATION_UNREACHABLE = 1;
    public static final int PACKET_TOO_BIG = 2;
    public static final int TIME_EXCEEDED = 3;
    public static final int PARAMETER_PROBLEM = 4;
    public static final int ECHO_REQUEST = 128;
    public static final int ECHO_REPLY = 129;
    /** Neighbour discovery (RFC 4861): who has this address? See {@code org.tuntap.codec.ndp.NdpMessage}. */
    public static final int NEIGHBOUR_SOLICITATION = 135;
    /** Neighbour discovery (RFC 4861): this address is at this link-layer address. */
    public static final int NEIGHBOUR_ADVERTISEMENT = 136;

    private Icmpv6Types() {
    }
}
