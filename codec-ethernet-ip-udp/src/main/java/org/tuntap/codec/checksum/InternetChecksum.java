package org.tuntap.codec.checksum;

import io.netty.buffer.ByteBuf;
import io.netty.util.IllegalReferenceCountException;
import io.netty.util.internal.PlatformDependent;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The Internet checksum (RFC 1071): the ones'-complement of the ones'-complement sum of 16-bit
 * big-endian words. Every layer of this module uses this one class.
 *
 * <p>Sums are carried as an unfolded {@code long} ("partial sum") so regions can be added one
 * after another (pseudo-header, header, payload) and folded once. A region must start at an
 * even offset of the checksummed data; only the last region may have an odd length (its last
 * byte is the high byte of a word padded with zero).
 *
 * <p>Speed: the sum reads 8 bytes per step, in the machine's byte order (the sum is turned into
 * big-endian words once, at the end, not at each read; see {@code nativeToBigEndianWords}), and
 * adds the two 32-bit halves into 64-bit accumulators, so no carry handling is needed inside the loop (folding 32-bit words gives the
 * same result as summing 16-bit words, since 2^16 = 1 modulo 0xFFFF). Heap buffers are read
 * from their array, direct buffers from their memory address (after one bounds check for the
 * whole region, as Netty's own unsafe buffers do); both without allocating (an NIO view would
 * allocate a ByteBuffer per call for sliced buffers). Where Netty runs without
 * {@code sun.misc.Unsafe} (its default on Java 25+), long regions of direct buffers are read
 * through their internal NIO view instead: one bounds check for the region rather than a
 * reference-count and index check per 8 bytes (see {@link #NIO_MIN_LENGTH}). Anything else goes
 * through the ByteBuf accessors.
 */
public final class InternetChecksum {

    private static final VarHandle ARRAY_LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.nativeOrder());
    /**
     * The shortest region read through a direct buffer's NIO view when Netty has no Unsafe: the
     * view is created once per buffer use (a pooled buffer drops it when recycled), an allocation
     * that only pays for itself over a long region; shorter ones take the ByteBuf accessors.
     */
    static final int NIO_MIN_LENGTH = 512;
    /** The machine's order whatever order the view was left in. */
    private static final VarHandle NIO_LONG = MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.nativeOrder());
    private static final long LOW32 = 0xFFFF_FFFFL;

    private InternetChecksum() {
    }

    /** The checksum of {@code length} bytes of {@code buf} from {@code index}, ready to store. */
    public static int checksum(ByteBuf buf, int index, int length) {
        return finish(add(0, buf, index, length));
    }

    /**
     * Adds the 16-bit words of a region to a partial sum. Does not move the buffer's indices.
     *
     * @return the new partial sum (unfolded; pass it to {@link #finish} or {@link #fold})
     */
    public static long add(long sum, ByteBuf buf, int index, int length) {
        if (length <= 0) {
            return sum;
        }
        long regionSum;
        if (buf.hasArray()) {
            regionSum = sumArray(buf.array(), buf.arrayOffset() + index, length);
        } else if (buf.hasMemoryAddress() && PlatformDependent.hasUnsafe()) {
            checkRegion(buf, index, length);
            regionSum = sumAddress(buf.memoryAddress() + index, length);
        } else if (length >= NIO_MIN_LENGTH && buf.hasMemoryAddress()) {
            // The buffer's own view, positioned at the region after the buffer's own checks.
            ByteBuffer region = buf.internalNioBuffer(index, length);
            regionSum = sumNio(region, region.position(), length);
        } else {
            regionSum = sumGeneric(buf, index, length);
        }
        // Keep the running sum far from overflow whatever the caller chains.
        return reduce(sum) + reduce(regionSum);
    }

    /** Adds one 16-bit word (e.g. a length or a protocol number) to a partial sum. */
    public static long addWord(long sum, int word) {
        return sum + (word & 0xFFFF);
    }

    /** Adds a 32-bit value (e.g. an IPv4 address) as two 16-bit words. */
    public static long addInt(long sum, int value) {
        return sum + (value >>> 16) + (value & 0xFFFF);
    }

    /**
     * The partial sum of the IPv4 pseudo-header used by UDP and TCP: source, destination,
     * zero + protocol, and the transport length.
     */
    public static long pseudoHeaderSum(int source, int destination, int protocol, int transportLength) {
        return addInt(addInt(0, source), destination) + (protocol & 0xFF) + (transportLength & 0xFFFF);
    }

    /**
     * The partial sum of the IPv6 pseudo-header (RFC 8200 section 8.1) used by UDP, TCP and
     * ICMPv6: source and destination (each as two big-endian longs, as
     * {@code Ipv6Header.sourceHigh/sourceLow} read them), the 32-bit upper-layer length, three
     * zero bytes and the next header (the upper-layer protocol, not an extension header's).
     */
    public static long pseudoHeaderSumIpv6(long sourceHigh, long sourceLow, long destinationHigh, long destinationLow,
                                           int nextHeader, int upperLayerLength) {
        return addLong(addLong(addLong(addLong(0, sourceHigh), sourceLow), destinationHigh), destinationLow)
                + (nextHeader & 0xFF) + (upperLayerLength >>> 16) + (upperLayerLength & 0xFFFF);
    }

    /**
     * {@link #pseudoHeaderSumIpv6(long, long, long, long, int, int)} with the addresses read from
     * the IPv6 header that starts at {@code ipv6HeaderIndex} of {@code buf}.
     */
    public static long pseudoHeaderSumIpv6(ByteBuf buf, int ipv6HeaderIndex, int nextHeader, int upperLayerLength) {
        return pseudoHeaderSumIpv6(buf.getLong(ipv6HeaderIndex + 8), buf.getLong(ipv6HeaderIndex + 16),
                buf.getLong(ipv6HeaderIndex + 24), buf.getLong(ipv6HeaderIndex + 32), nextHeader, upperLayerLength);
    }

    private static long addLong(long sum, long value) {
        return sum + (value >>> 32) + (value & LOW32);
    }

    /** Folds a partial sum to 16 bits with end-around carry (not inverted). */
    public static int fold(long sum) {
        long s = reduce(sum);
        s = (s & 0xFFFF) + (s >>> 16);
        s = (s & 0xFFFF) + (s >>> 16);
        s = (s & 0xFFFF) + (s >>> 16);
        return (int) s;
    }

    /** Folds and inverts a partial sum: the value that goes into a checksum field. */
    public static int finish(long sum) {
        return ~fold(sum) & 0xFFFF;
    }

    /**
     * Incremental update (RFC 1624, equation 3) of a checksum after one 16-bit word of the
     * covered data changed from {@code oldWord} to {@code newWord}: {@code HC' = ~(~HC + ~m + m')}.
     */
    public static int update(int checksum, int oldWord, int newWord) {
        long sum = (~checksum & 0xFFFF) + (~oldWord & 0xFFFF) + (newWord & 0xFFFF);
        return finish(sum);
    }

    /** {@link #update} for a 32-bit field (an IPv4 address), as two 16-bit words. */
    public static int update32(int checksum, int oldValue, int newValue) {
        long sum = (~checksum & 0xFFFF)
                + (~(oldValue >>> 16) & 0xFFFF) + (~oldValue & 0xFFFF)
                + (newValue >>> 16) + (newValue & 0xFFFF);
        return finish(sum);
    }

    /** Folds 64 bits to at most 33 bits without changing the value modulo 0xFFFF. */
    private static long reduce(long sum) {
        sum = (sum & LOW32) + (sum >>> 32);
        return (sum & LOW32) + (sum >>> 32);
    }

    private static long sumArray(byte[] a, int offset, int length) {
        int i = offset;
        int end = offset + length;
        long s0 = 0;
        long s1 = 0;
        for (; i <= end - 16; i += 16) {
            long w0 = (long) ARRAY_LONG.get(a, i);
            long w1 = (long) ARRAY_LONG.get(a, i + 8);
            s0 += (w0 >>> 32) + (w0 & LOW32);
            s1 += (w1 >>> 32) + (w1 & LOW32);
        }
        long s = s0 + s1;
        if (i <= end - 8) {
            long w = (long) ARRAY_LONG.get(a, i);
            s += (w >>> 32) + (w & LOW32);
            i += 8;
        }
        s = nativeToBigEndianWords(s);
        for (; i <= end - 2; i += 2) {
            s += ((a[i] & 0xFF) << 8) | (a[i + 1] & 0xFF);
        }
        if (i < end) {
            s += (a[i] & 0xFF) << 8;
        }
        return s;
    }

    private static long sumAddress(long address, int length) {
        long a = address;
        long end = address + length;
        long s0 = 0;
        long s1 = 0;
        for (; a <= end - 16; a += 16) {
            long w0 = PlatformDependent.getLong(a);
            long w1 = PlatformDependent.getLong(a + 8);
            s0 += (w0 >>> 32) + (w0 & LOW32);
            s1 += (w1 >>> 32) + (w1 & LOW32);
        }
        long s = s0 + s1;
        if (a <= end - 8) {
            long w = PlatformDependent.getLong(a);
            s += (w >>> 32) + (w & LOW32);
            a += 8;
        }
        s = nativeToBigEndianWords(s);
        for (; a <= end - 2; a += 2) {
            s += ((PlatformDependent.getByte(a) & 0xFF) << 8) | (PlatformDependent.getByte(a + 1) & 0xFF);
        }
        if (a < end) {
            s += (PlatformDependent.getByte(a) & 0xFF) << 8;
        }
        return s;
    }

    private static long sumNio(ByteBuffer b, int offset, int length) {
        int i = offset;
        int end = offset + length;
        long s0 = 0;
        long s1 = 0;
        for (; i <= end - 16; i += 16) {
            long w0 = (long) NIO_LONG.get(b, i);
            long w1 = (long) NIO_LONG.get(b, i + 8);
            s0 += (w0 >>> 32) + (w0 & LOW32);
            s1 += (w1 >>> 32) + (w1 & LOW32);
        }
        long s = s0 + s1;
        if (i <= end - 8) {
            long w = (long) NIO_LONG.get(b, i);
            s += (w >>> 32) + (w & LOW32);
            i += 8;
        }
        s = nativeToBigEndianWords(s);
        for (; i <= end - 2; i += 2) {
            s += ((b.get(i) & 0xFF) << 8) | (b.get(i + 1) & 0xFF);
        }
        if (i < end) {
            s += (b.get(i) & 0xFF) << 8;
        }
        return s;
    }

    /**
     * The bulk loops read longs in the machine's own order (no byte swap per read). Swapping a
     * 16-bit word's bytes is multiplying it by 256 modulo 0xFFFF (a*256 + b times 256 is
     * a*65536 + b*256, and 65536 = 1), so a sum of little-endian words times 256 is the sum of
     * the same words big-endian, modulo 0xFFFF, which is all a partial sum is taken at.
     */
    private static long nativeToBigEndianWords(long nativeSum) {
        return PlatformDependent.BIG_ENDIAN_NATIVE_ORDER ? nativeSum : reduce(nativeSum) << 8;
    }

    /** The one check that guards the unchecked reads: released buffer or region out of bounds. */
    private static void checkRegion(ByteBuf buf, int index, int length) {
        if (buf.refCnt() == 0) {
            throw new IllegalReferenceCountException(0);
        }
        if (index < 0 || length < 0 || index > buf.capacity() - length) {
            throw new IndexOutOfBoundsException("index " + index + " + length " + length + " exceeds capacity " + buf.capacity());
        }
    }

    /** Any other buffer (composites of several components): through the ByteBuf accessors. */
    private static long sumGeneric(ByteBuf buf, int offset, int length) {
        int i = offset;
        int end = offset + length;
        long s = 0;
        for (; i <= end - 8; i += 8) {
            long w = buf.getLong(i);
            s += (w >>> 32) + (w & LOW32);
        }
        for (; i <= end - 2; i += 2) {
            s += buf.getUnsignedShort(i);
        }
        if (i < end) {
            s += buf.getUnsignedByte(i) << 8;
        }
        return s;
    }
}
