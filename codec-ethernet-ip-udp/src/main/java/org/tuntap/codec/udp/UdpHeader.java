package org.tuntap.codec.udp;

import io.netty.buffer.ByteBuf;
import org.tuntap.codec.DropReason;
import org.tuntap.codec.checksum.InternetChecksum;
import org.tuntap.codec.ipv4.Ipv4Header;

/**
 * The UDP header (RFC 768) in place: source port, destination port, length, checksum. Static
 * accessors take the buffer and the index where the header starts; nothing here allocates.
 */
public final class UdpHeader {

    /** Bytes in the UDP header. */
    public static final int LENGTH = 8;
    /** Where the checksum field is, from the start of the header (a virtio-net header's csum_offset). */
    public static final int CHECKSUM_OFFSET = 6;
    private static final int SOURCE_PORT_OFFSET = 0;
    private static final int DESTINATION_PORT_OFFSET = 2;
    private static final int LENGTH_OFFSET = 4;
    /** Largest payload in one IPv4 packet without options: 65535 - 20 - 8. */
    public static final int MAX_IPV4_PAYLOAD = Ipv4Header.MAX_TOTAL_LENGTH - Ipv4Header.MIN_LENGTH - LENGTH;

    private UdpHeader() {
    }

    /**
     * Validates the UDP datagram at {@code index}, carried in {@code available} bytes of IPv4
     * payload from {@code source} to {@code destination}: at least a header, a length field
     * between 8 and the data, and (if asked) the checksum when it is not 0.
     *
     * @return null if valid, else why not
     */
    public static DropReason check(ByteBuf buf, int index, int available, int source, int destination, boolean verifyChecksum) {
        if (available < LENGTH) {
            return DropReason.TRUNCATED;
        }
        return check(word(buf, index), buf, index, available, source, destination, verifyChecksum);
    }

    /**
     * Validates the UDP datagram at {@code index}, carried in {@code available} bytes of IPv6
     * upper-layer data, the IPv6 header at {@code ipv6HeaderIndex} of the same buffer: at least a
     * header, a length field between 8 and the data, and (if asked) the checksum over the IPv6
     * pseudo-header. Over IPv6 the checksum is mandatory (RFC 8200 section 8.1), so when
     * verifying, a zero checksum field is {@link DropReason#BAD_CHECKSUM}.
     *
     * @return null if valid, else why not
     */
    public static DropReason checkIpv6(ByteBuf buf, int index, int available, int ipv6HeaderIndex, boolean verifyChecksum) {
        if (available < LENGTH) {
            return DropReason.TRUNCATED;
        }
        int length = length(buf, index);
        if (length < LENGTH || length > available) {
            return DropReason.BAD_LENGTH;
        }
        if (verifyChecksum) {
            if (checksumField(buf, index) == 0) {
                return DropReason.BAD_CHECKSUM;
            }
            long sum = InternetChecksum.pseudoHeaderSumIpv6(buf, ipv6HeaderIndex, Ipv4Header.PROTOCOL_UDP, length);
            if (InternetChecksum.finish(InternetChecksum.add(sum, buf, index, length)) != 0) {
                return DropReason.BAD_CHECKSUM;
            }
        }
        return null;
    }

    /** The source port. */
    public static int sourcePort(ByteBuf buf, int index) {
        return buf.getUnsignedShort(index + SOURCE_PORT_OFFSET);
    }

    /** The destination port. */
    public static int destinationPort(ByteBuf buf, int index) {
        return buf.getUnsignedShort(index + DESTINATION_PORT_OFFSET);
    }

    /** Header plus payload, in bytes. */
    public static int length(ByteBuf buf, int index) {
        return buf.getUnsignedShort(index + LENGTH_OFFSET);
    }

    /** Writes the length field (header plus payload). */
    public static void setLength(ByteBuf buf, int index, int length) {
        buf.setShort(index + LENGTH_OFFSET, length);
    }

    /** Writes the checksum field. */
    public static void setChecksumField(ByteBuf buf, int index, int checksum) {
        buf.setShort(index + CHECKSUM_OFFSET, checksum);
    }

    /** The checksum field as sent (0: none). */
    public static int checksumField(ByteBuf buf, int index) {
        return buf.getUnsignedShort(index + CHECKSUM_OFFSET);
    }

    // ---- the header as one word: a path that reads every field checks the buffer once ----

    /** The whole header at {@code index} as one big-endian long, for the word accessors below. */
    public static long word(ByteBuf buf, int index) {
        return buf.getLong(index);
    }

    /** {@link #sourcePort(ByteBuf, int)} of a header read by {@link #word}. */
    public static int sourcePort(long word) {
        return field(word, SOURCE_PORT_OFFSET);
    }

    /** {@link #destinationPort(ByteBuf, int)} of a header read by {@link #word}. */
    public static int destinationPort(long word) {
        return field(word, DESTINATION_PORT_OFFSET);
    }

    /** {@link #length(ByteBuf, int)} of a header read by {@link #word}. */
    public static int length(long word) {
        return field(word, LENGTH_OFFSET);
    }

    /** {@link #checksumField(ByteBuf, int)} of a header read by {@link #word}. */
    public static int checksumField(long word) {
        return field(word, CHECKSUM_OFFSET);
    }

    /** The 16-bit field at byte {@code offset} of the big-endian word. */
    private static int field(long word, int offset) {
        return (int) (word >>> (48 - 8 * offset)) & 0xFFFF;
    }

    /**
     * {@link #check(ByteBuf, int, int, int, int, boolean)} of the header {@code word} read at
     * {@code index}: the same verdicts, its fields not read again. Read the word only when the
     * {@code available} bytes hold a header.
     */
    public static DropReason check(long word, ByteBuf buf, int index, int available, int source, int destination,
                                   boolean verifyChecksum) {
        if (available < LENGTH) {
            return DropReason.TRUNCATED;
        }
        int length = length(word);
        if (length < LENGTH || length > available) {
            return DropReason.BAD_LENGTH;
        }
        if (verifyChecksum && checksumField(word) != 0) {
            // The header's four words from the one read, then the payload.
            long sum = InternetChecksum.pseudoHeaderSum(source, destination, Ipv4Header.PROTOCOL_UDP, length)
                    + (word >>> 32) + (word & 0xFFFF_FFFFL);
            if (InternetChecksum.finish(InternetChecksum.add(sum, buf, index + LENGTH, length - LENGTH)) != 0) {
                return DropReason.BAD_CHECKSUM;
            }
        }
        return null;
    }

    /**
     * Writes a header at {@code index} with the checksum computed over the pseudo-header, the
     * header and {@code payload}'s readable bytes (a computed 0 is sent as 0xFFFF), or 0 when
     * {@code computeChecksum} is false. The payload is read, not copied or moved.
     */
    public static void set(ByteBuf buf, int index, int source, int destination, int sourcePort, int destinationPort,
                           ByteBuf payload, boolean computeChecksum) {
        set(buf, index, source, destination, sourcePort, destinationPort, payload, payload.readerIndex(),
                payload.readableBytes(), computeChecksum);
    }

    /** {@link #set(ByteBuf, int, int, int, int, int, ByteBuf, boolean)} for a payload region given by index and length. */
    public static void set(ByteBuf buf, int index, int source, int destination, int sourcePort, int destinationPort,
                           ByteBuf payload, int payloadIndex, int payloadLength, boolean computeChecksum) {
        int length = LENGTH + payloadLength;
        if (length > 0xFFFF) {
            throw new IllegalArgumentException("UDP datagram of " + length + " bytes exceeds 65535");
        }
        int checksum = 0;
        if (computeChecksum) {
            long sum = InternetChecksum.pseudoHeaderSum(source, destination, Ipv4Header.PROTOCOL_UDP, length)
                    + (sourcePort & 0xFFFF) + (destinationPort & 0xFFFF) + length;
            checksum = InternetChecksum.finish(InternetChecksum.add(sum, payload, payloadIndex, payloadLength));
            if (checksum == 0) {
                checksum = 0xFFFF;
            }
        }
        write(buf, index, sourcePort, destinationPort, length, checksum);
    }

    /**
     * Writes a header at {@code index} for IPv6 from the source to the destination address (two
     * longs each, as {@code Ipv6Header.sourceHigh/sourceLow} read them), with the checksum
     * computed over the IPv6 pseudo-header, the header and the payload region (a computed 0 is
     * sent as 0xFFFF), or 0 when {@code computeChecksum} is false (only for checksum offload:
     * IPv6 receivers drop a zero checksum). The payload is read, not copied or moved.
     */
    public static void setIpv6(ByteBuf buf, int index, long sourceHigh, long sourceLow, long destinationHigh,
                               long destinationLow, int sourcePort, int destinationPort,
                               ByteBuf payload, int payloadIndex, int payloadLength, boolean computeChecksum) {
        int length = LENGTH + payloadLength;
        if (length > 0xFFFF) {
            throw new IllegalArgumentException("UDP datagram of " + length + " bytes exceeds 65535");
        }
        int checksum = 0;
        if (computeChecksum) {
            long sum = InternetChecksum.pseudoHeaderSumIpv6(sourceHigh, sourceLow, destinationHigh, destinationLow,
                    Ipv4Header.PROTOCOL_UDP, length) + (sourcePort & 0xFFFF) + (destinationPort & 0xFFFF) + length;
            checksum = InternetChecksum.finish(InternetChecksum.add(sum, payload, payloadIndex, payloadLength));
            if (checksum == 0) {
                checksum = 0xFFFF;
            }
        }
        write(buf, index, sourcePort, destinationPort, length, checksum);
    }

    /** The four 16-bit fields as one big-endian long: one write, which checks the buffer once. */
    private static void write(ByteBuf buf, int index, int sourcePort, int destinationPort, int length, int checksum) {
        buf.setLong(index, placed(sourcePort, SOURCE_PORT_OFFSET) | placed(destinationPort, DESTINATION_PORT_OFFSET)
                | placed(length, LENGTH_OFFSET) | placed(checksum, CHECKSUM_OFFSET));
    }

    /** A 16-bit field placed at byte {@code offset} of a big-endian word: {@link #field}'s inverse. */
    private static long placed(int value, int offset) {
        return (long) (value & 0xFFFF) << (48 - 8 * offset);
    }
}
