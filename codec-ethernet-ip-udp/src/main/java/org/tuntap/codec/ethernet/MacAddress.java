package org.tuntap.codec.ethernet;

import io.netty.buffer.ByteBuf;

import java.util.concurrent.ThreadLocalRandom;

/**
 * A 48-bit IEEE 802 MAC address, a value (equal by bits). Held as the low 48 bits of a
 * {@code long}, first octet most significant, so headers read and write it in two steps.
 */
public final class MacAddress {

    /** {@code ff:ff:ff:ff:ff:ff}. */
    public static final MacAddress BROADCAST = new MacAddress(0xFFFF_FFFF_FFFFL);
    /** {@code 00:00:00:00:00:00}. */
    public static final MacAddress ZERO = new MacAddress(0);

    private static final long MASK = 0xFFFF_FFFF_FFFFL;
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private final long bits;

    private MacAddress(long bits) {
        this.bits = bits & MASK;
    }

    /** The address with these 48 bits (higher bits are ignored). */
    public static MacAddress of(long bits) {
        long b = bits & MASK;
        return b == BROADCAST.bits ? BROADCAST : b == 0 ? ZERO : new MacAddress(b);
    }

    /** The address in these 6 bytes. */
    public static MacAddress of(byte[] octets) {
        if (octets.length != 6) {
            throw new IllegalArgumentException("a MAC address has 6 octets, not " + octets.length);
        }
        long b = 0;
        for (byte o : octets) {
            b = (b << 8) | (o & 0xFF);
        }
        return of(b);
    }

    /**
     * Parses six hexadecimal octets separated by {@code :} or {@code -}, e.g.
     * {@code 02:00:5e:10:00:01}.
     *
     * @throws IllegalArgumentException if the text is not such an address
     */
    public static MacAddress parse(String text) {
        if (text.length() != 17) {
            throw new IllegalArgumentException("not a MAC address: \"" + text + "\"");
        }
        long b = 0;
        for (int i = 0; i < 6; i++) {
            int p = i * 3;
            int hi = Character.digit(text.charAt(p), 16);
            int lo = Character.digit(text.charAt(p + 1), 16);
            boolean separatorOk = i == 5 || text.charAt(p + 2) == ':' || text.charAt(p + 2) == '-';
            if (hi < 0 || lo < 0 || !separatorOk) {
                throw new IllegalArgumentException("not a MAC address: \"" + text + "\"");
            }
            b = (b << 8) | (hi << 4) | lo;
        }
        return of(b);
    }

    /**
     * A random unicast, locally administered address (first octet {@code x2}, {@code x6},
     * {@code xa} or {@code xe}), fit for a TAP application's own interface.
     */
    public static MacAddress randomLocal() {
        long b = ThreadLocalRandom.current().nextLong() & MASK;
        b = (b & ~(0x01L << 40)) | (0x02L << 40);
        return of(b);
    }

    /** Reads 6 bytes at {@code index} (as the bits: see {@link #of(long)}). */
    public static long readBits(ByteBuf buf, int index) {
        return ((long) buf.getUnsignedShort(index) << 32) | buf.getUnsignedInt(index + 2);
    }

    /** Writes 48 bits as 6 bytes at {@code index}. */
    public static void writeBits(ByteBuf buf, int index, long bits) {
        buf.setShort(index, (int) (bits >>> 32));
        buf.setInt(index + 2, (int) bits);
    }

    /** The 48 bits, first octet most significant. */
    public long bits() {
        return bits;
    }

    /** The 6 octets. */
    public byte[] toBytes() {
        byte[] octets = new byte[6];
        for (int i = 0; i < 6; i++) {
            octets[i] = (byte) (bits >>> (40 - 8 * i));
        }
        return octets;
    }

    /** Whether this is ff:ff:ff:ff:ff:ff. */
    public boolean isBroadcast() {
        return bits == BROADCAST.bits;
    }

    /** Group bit set (multicast, broadcast included). */
    public boolean isMulticast() {
        return isMulticast(bits);
    }

    /** Group bit of an address held as bits. */
    public static boolean isMulticast(long bits) {
        return (bits & (0x01L << 40)) != 0;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MacAddress m && m.bits == bits;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(bits);
    }

    /** Lower-case, colon separated: {@code 02:00:5e:10:00:01}. */
    @Override
    public String toString() {
        char[] c = new char[17];
        for (int i = 0; i < 6; i++) {
            int octet = (int) (bits >>> (40 - 8 * i)) & 0xFF;
            c[i * 3] = HEX[octet >>> 4];
            c[i * 3 + 1] = HEX[octet & 0xF];
            if (i < 5) {
                c[i * 3 + 2] = ':';
            }
        }
        return new String(c);
    }
}
