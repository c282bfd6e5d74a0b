package org.tuntap.transport.spi;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * {@code struct ifreq} as {@code TUNSETIFF} and {@code TUNGETIFF} use it: 40 bytes, the
 * NUL-terminated interface name in the first 16, a native-endian {@code short} of flags at 16.
 *
 * <p>Encoding and decoding live here so the channel, the native layer and the in-memory tunnel
 * agree on every byte.
 */
public final class Ifreq {
    /** {@code sizeof(struct ifreq)} on 64-bit Linux. */
    public static final int SIZE = 40;
    /** {@code IFNAMSIZ}: the name field, terminating NUL included. */
    public static final int NAME_SIZE = 16;
    /** The longest interface name: {@code IFNAMSIZ - 1}. */
    public static final int MAX_NAME_LENGTH = NAME_SIZE - 1;
    /** Where the {@code short} of flags ({@code ifr_flags}) starts. */
    public static final int FLAGS_OFFSET = 16;

    private Ifreq() {
    }

    /**
     * Encodes a request. An empty name asks the kernel to choose ({@code tun%d}/{@code tap%d}).
     *
     * @throws IllegalArgumentException if the name does not fit in 15 bytes of UTF-8 or holds a NUL
     */
    public static byte[] encode(String name, int flags) {
        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        if (nameBytes.length > MAX_NAME_LENGTH) {
            throw new IllegalArgumentException("interface name '" + name + "' is " + nameBytes.length
                    + " bytes; Linux allows at most " + MAX_NAME_LENGTH);
        }
        for (byte b : nameBytes) {
            if (b == 0) {
                throw new IllegalArgumentException("interface name must not contain NUL");
            }
        }
        byte[] ifreq = new byte[SIZE];
        System.arraycopy(nameBytes, 0, ifreq, 0, nameBytes.length);
        ByteBuffer.wrap(ifreq).order(ByteOrder.nativeOrder()).putShort(FLAGS_OFFSET, (short) flags);
        return ifreq;
    }

    /** The name in an ifreq: the bytes before the first NUL of the 16-byte field. */
    public static String name(byte[] ifreq) {
        int length = 0;
        while (length < NAME_SIZE && length < ifreq.length && ifreq[length] != 0) {
            length++;
        }
        return new String(ifreq, 0, length, StandardCharsets.UTF_8);
    }

    /** The flags in an ifreq, as an unsigned 16-bit value. */
    public static int flags(byte[] ifreq) {
        return ByteBuffer.wrap(ifreq).order(ByteOrder.nativeOrder()).getShort(FLAGS_OFFSET) & 0xFFFF;
    }
}
