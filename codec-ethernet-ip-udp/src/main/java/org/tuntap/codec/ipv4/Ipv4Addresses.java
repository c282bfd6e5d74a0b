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
}
