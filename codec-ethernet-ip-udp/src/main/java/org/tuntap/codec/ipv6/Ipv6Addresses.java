package org.tuntap.codec.ipv6;

import java.net.Inet6Address;
import java.net.UnknownHostException;

/**
 * Conversions between {@link Inet6Address} and the form IPv6 headers are read in without
 * allocating: two big-endian longs, the high 64 bits ({@code 2001:db8::} is
 * {@code 0x20010db8_00000000L}) and the low 64 bits.
 */
public final class Ipv6Addresses {

    private Ipv6Addresses() {
    }

    /** The high 64 bits of the address, big-endian. */
    public static long high(Inet6Address address) {
        return longAt(address.getAddress(), 0);
    }

    /** The low 64 bits of the address, big-endian. */
    public static long low(Inet6Address address) {
        return longAt(address.getAddress(), 8);
    }

    /**
     * The address of two longs, always an {@link Inet6Address} (an IPv4-mapped address
     * {@code ::ffff:a.b.c.d} too, which {@code InetAddress.getByAddress} would turn into IPv4).
     */
    public static Inet6Address toInet(long high, long low) {
        byte[] b = new byte[16];
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (high >>> (56 - 8 * i));
            b[8 + i] = (byte) (low >>> (56 - 8 * i));
        }
        try {
            return Inet6Address.getByAddress(null, b, -1); // a negative scope: none
        } catch (UnknownHostException impossible) { // only thrown for a wrong array length
            throw new AssertionError(impossible);
        }
    }

    /**
     * Whether no host sends from this source, so a packet from it is dropped as Linux drops
     * martians: a multicast source (RFC 4291 section 2.7) or the loopback address {@code ::1}
     * from a device; and the unspecified address {@code ::}, except under ICMPv6, where neighbour
     * discovery's duplicate-address probes (RFC 4861 section 7.2.2) and MLD reports (RFC 3810
     * section 5.2.13) are sent from it. Answering such a packet would reflect it to a group or
     * to nobody.
     *
     * @param upperLayerProtocol the protocol after any extension headers (58 for ICMPv6)
     */
    public static boolean isMartianSource(long high, long low, int upperLayerProtocol) {
        if ((high >>> 56) == 0xFF) {
            return true;
        }
        if (high == 0 && low == 1) {
            return true;
        }
        return high == 0 && low == 0 && upperLayerProtocol != Ipv6Header.PROTOCOL_ICMPV6;
    }

    /** The address in the JDK's text form (not compressed), for logs. */
    public static String toString(long high, long low) {
        return toInet(high, low).getHostAddress();
    }

    private static long longAt(byte[] b, int offset) {
        long value = 0;
        for (int i = 0; i < 8; i++) {
            value = (value << 8) | (b[offset + i] & 0xFF);
        }
        return value;
    }
}
