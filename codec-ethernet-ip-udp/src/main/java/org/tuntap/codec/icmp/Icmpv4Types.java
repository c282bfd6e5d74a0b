package org.tuntap.codec.icmp;

/** ICMPv4 type and code numbers (RFC 792, RFC 1191) this module knows. */
public final class Icmpv4Types {
    /** IPv4 protocol number of ICMP. */
    public static final int PROTOCOL = 1;

    public static final int ECHO_REPLY = 0;
    public static final int DESTINATION_UNREACHABLE = 3;
    public static final int ECHO_REQUEST = 8;
    public static final int TIME_EXCEEDED = 11;
    /** Code of {@link #DESTINATION_UNREACHABLE}: fragmentation needed and DF set (path MTU discovery). */
    public static final int CODE_FRAGMENTATION_NEEDED = 4;

    private Icmpv4Types() {
    }
}
