package org.tuntap.codec.tcp;

import io.netty.buffer.ByteBuf;
import org.tuntap.codec.DropReason;

/**
 * The TCP header (RFC 9293 section 3.1) in place: static accessors and writers taking the buffer
 * and the index where the header starts, and {@link #check} to validate one before reading it.
 * Nothing here allocates.
 *
 * <pre>
 * offset 0  u16 source port        2  u16 destination port
 *        4  u32 sequence number    8  u32 acknowledgment number
 *       12  u4  data offset (words), reserved    13  u8 flags (CWR ECE URG ACK PSH RST SYN FIN)
 *       14  u16 window            16  u16 checksum            18  u16 urgent pointer
 *       20  options, up to data offset * 4
 * </pre>
 */
public final class TcpHeader {

    /** Header length without options. */
    public static final int MIN_LENGTH = 20;
    /** Header length with the most options (data offset 15). */
    public static final int MAX_LENGTH = 60;
    /** Protocol number of TCP (IPv4 protocol, IPv6 next header). */
    public static final int PROTOCOL = 6;
    /** Where the checksum field is, from the start of the header (a virtio-net header's csum_offset). */
    public static final int CHECKSUM_OFFSET = 16;

    public static final int FIN = 0x01;
    public static final int SYN = 0x02;
    public static final int RST = 0x04;
    public static final int PSH = 0x08;
    public static final int ACK = 0x10;
    public static final int URG = 0x20;
    public static final int ECE = 0x40;
    public static final int CWR = 0x80;

    private static final int SEQUENCE = 4;
    private static final int ACKNOWLEDGMENT = 8;
    private static final int DATA_OFFSET = 12;
    private static final int FLAGS = 13;
    private static final int WINDOW = 14;
    private static final int URGENT_POINTER = 18;

    private TcpHeader() {
    }

    /**
     * Validates the TCP header at {@code index}, carried in {@code available} bytes (header and
     * payload): at least 20 bytes, and a data offset of at least 5 words that stays within them.
     *
     * @return null if valid, else why not
     */
    public static DropReason check(ByteBuf buf, int index, int available) {
        if (available < MIN_LENGTH) {
            return DropReason.TRUNCATED;
        }
        int headerLength = headerLength(buf, index);
        if (headerLength < MIN_LENGTH) {
            return DropReason.BAD_HEADER_LENGTH;
        }
        if (headerLength > available) {
            return DropReason.TRUNCATED;
        }
        return null;
    }

    public static int sourcePort(ByteBuf buf, int index) {
        return buf.getUnsignedShort(index);
    }

    public static int destinationPort(ByteBuf buf, int index) {
        return buf.getUnsignedShort(index + 2);
    }

    /** The sequence number, 0..2^32-1. */
    public static long sequenceNumber(ByteBuf buf, int index) {
        return buf.getUnsignedInt(index + SEQUENCE);
    }

    /** The acknowledgment number, 0..2^32-1. */
    public static long acknowledgmentNumber(ByteBuf buf, int index) {
        return buf.getUnsignedInt(index + ACKNOWLEDGMENT);
    }

    /** Header length in bytes, options included (data offset * 4). */
    public static int headerLength(ByteBuf buf, int index) {
        return (buf.getUnsignedByte(index + DATA_OFFSET) >>> 4) << 2;
    }

    /** The byte holding the data offset and the reserved bits (which a super-packet's segments share). */
    public static int dataOffsetByte(ByteBuf buf, int index) {
        return buf.getUnsignedByte(index + DATA_OFFSET);
    }

    /** The eight flag bits ({@link #FIN} ... {@link #CWR}). */
    public static int flags(ByteBuf buf, int index) {
        return buf.getUnsignedByte(index + FLAGS);
    }

    public static int window(ByteBuf buf, int index) {
        return buf.getUnsignedShort(index + WINDOW);
    }

    /** The checksum field as stored. */
    public static int checksumField(ByteBuf buf, int index) {
        return buf.getUnsignedShort(index + CHECKSUM_OFFSET);
    }

    public static int urgentPointer(ByteBuf buf, int index) {
        return buf.getUnsignedShort(index + URGENT_POINTER);
    }

    /** Writes the sequence number (taken modulo 2^32). */
    public static void setSequenceNumber(ByteBuf buf, int index, long sequenceNumber) {
        buf.setInt(index + SEQUENCE, (int) sequenceNumber);
    }

    /** Writes the eight flag bits. */
    public static void setFlags(ByteBuf buf, int index, int flags) {
        buf.setByte(index + FLAGS, flags);
    }

    /** Writes the checksum field. */
    public static void setChecksumField(ByteBuf buf, int index, int checksum) {
        buf.setShort(index + CHECKSUM_OFFSET, checksum);
    }
}
