package org.tuntap.codec.ipv4;

import io.netty.buffer.ByteBuf;
import org.tuntap.codec.DropReason;
import org.tuntap.codec.checksum.InternetChecksum;

/**
 * The 20 fixed bytes of an IPv4 header read in three accesses (two longs and an int) where
 * {@link Ipv4Header}'s accessors take one per field. Every {@code ByteBuf} access checks the
 * buffer (its reference count, the bounds); on the fused path, which reads every field of every
 * packet, those checks cost more than the arithmetic. Each field comes out of the words at its
 * offset in {@code Ipv4Header}, so the layout stays there.
 *
 * <p>One per decoder, reloaded for every packet; not thread-safe. Options are not read: a header
 * with options is for {@link Ipv4Header#check}.
 */
final class Ipv4FixedHeader {

    private static final long LOW32 = 0xFFFF_FFFFL;

    /** Bytes 0-7, 8-15 and 16-19 of the header, big-endian as ByteBuf reads them. */
    private long first;
    private long second;
    private int third;

    /** Reads the fixed header at {@code index}; the buffer must hold 20 bytes there. */
    Ipv4FixedHeader load(ByteBuf buf, int index) {
        first = buf.getLong(index);
        second = buf.getLong(index + 8);
        third = buf.getInt(index + 16);
        return this;
    }

    /**
     * {@link Ipv4Header#check}'s verdict on this header, carried in {@code length} bytes (at least
     * {@link Ipv4Header#MIN_LENGTH}, or nothing was loaded), when it has no options.
     */
    DropReason check(int length, boolean verifyChecksum) {
        if (version() != 4) {
            return DropReason.BAD_VERSION;
        }
        int headerLength = headerLength();
        if (headerLength < Ipv4Header.MIN_LENGTH) {
            return DropReason.BAD_HEADER_LENGTH;
        }
        int totalLength = totalLength();
        if (totalLength < headerLength || totalLength > length) {
            return DropReason.BAD_LENGTH;
        }
        if (verifyChecksum && !checksumValid()) {
            return DropReason.BAD_CHECKSUM;
        }
        return null;
    }

    /** Whether IHL says options follow the fixed header (then {@link #check} does not cover them). */
    boolean hasOptions() {
        return headerLength() > Ipv4Header.MIN_LENGTH;
    }

    /** {@link Ipv4Header#version}. */
    int version() {
        return byteAt(Ipv4Header.VERSION_IHL) >>> 4;
    }

    /** {@link Ipv4Header#headerLength}. */
    int headerLength() {
        return (byteAt(Ipv4Header.VERSION_IHL) & 0x0F) << 2;
    }

    /** {@link Ipv4Header#totalLength}. */
    int totalLength() {
        return shortAt(Ipv4Header.TOTAL_LENGTH);
    }

    /** {@link Ipv4Header#isFragment}. */
    boolean isFragment() {
        return (shortAt(Ipv4Header.FLAGS_FRAGMENT) & (Ipv4Header.FLAG_MF | Ipv4Header.OFFSET_MASK)) != 0;
    }

    /** {@link Ipv4Header#protocol}. */
    int protocol() {
        return byteAt(Ipv4Header.PROTOCOL);
    }

    /** {@link Ipv4Header#source}. */
    int source() {
        return (int) (word(Ipv4Header.SOURCE) >>> shift(Ipv4Header.SOURCE, 4));
    }

    /** {@link Ipv4Header#destination}: the third word, all of it. */
    int destination() {
        return third;
    }

    /** Whether the fixed header's 16-bit words, its checksum among them, sum to 0xFFFF. */
    private boolean checksumValid() {
        long sum = (first >>> 32) + (first & LOW32) + (second >>> 32) + (second & LOW32) + (third & LOW32);
        return InternetChecksum.finish(sum) == 0;
    }

    private int byteAt(int offset) {
        return (int) (word(offset) >>> shift(offset, 1)) & 0xFF;
    }

    private int shortAt(int offset) {
        return (int) (word(offset) >>> shift(offset, 2)) & 0xFFFF;
    }

    /** The long word holding the field at {@code offset} (below 16). */
    private long word(int offset) {
        return offset < 8 ? first : second;
    }

    /** How far right a field of {@code bytes} bytes at {@code offset} sits in its big-endian long. */
    private static int shift(int offset, int bytes) {
        return (8 - (offset & 7) - bytes) * 8;
    }
}
