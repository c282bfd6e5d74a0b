package org.tuntap.codec.ipv4;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/** Conversions between {@link Inet4Address} and the 32-bit form headers carry. */
public final class Ipv4Addresses {

    private Ipv4Addresses() {
    }

    /** The address as a big-endian int ({@code 10.1.2.3} is {@code 0x0a010203}). */
    public static int toInt(Inet4Address address) {
        byte[] b = address.getAddress();
        return ((b[0] & 0xFF) << 24) | ((b[1] & 0xFF) << 16) | ((b[2] & 0xFF) << 8) | (b[3] & 0xFF);
    }

    /** The address of a big-endian int. */
    public static Inet4Address toInet(int address) {
        byte[] b = {(byte) (address >>> 24), (byte) (address >>> 16), (byte) (address >>> 8), (byte) address};
        try {
            return (Inet4Address) InetAddress.getByAddress(b);
        } catch (UnknownHostException impossible) { // only thrown for a wrong array length
            throw new AssertionError(impossible);
        }
    }

    /** Dotted quad of a big-endian int, without creating an {@link InetAddress}. */
    public static String toString(int address) {
        return (address >>> 24) + "." + ((address >>> 16) & 0xFF) + "." + ((address >>> 8) & 0xFF) + "." + (address & 0xFF);
    }

    /**
     * Whether a packet from {@code source} to {@code destination} has a source no host may send
     * from, which Linux drops as a martian: a multicast (224.0.0.0/4), limited broadcast or
     * loopback (127.0.0.0/8) source, or the unspecified 0.0.0.0 except to the limited broadcast
     * (a DHCP client before it has an address, RFC 2131). Answering such a packet would reflect
     * it to a whole group or segment.
     */
    public static boolean isMartianSource(int source, int destination) {
        if (source == 0) {
            return destination != LIMITED_BROADCAST;
        }
        return source == LIMITED_BROADCAST || (source >>> 28) == 0xE || (source >>> 24) == 127;
    }

    /** 255.255.255.255. */
    public static final int LIMITED_BROADCAST = 0xFFFF_FFFF;
}
