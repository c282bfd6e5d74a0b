package org.tuntap.codec.ethernet;

import io.netty.buffer.ByteBuf;
import org.tuntap.codec.EtherType;

/**
 * The Ethernet II header in place: destination (6), source (6), ethertype (2), no FCS. With an
 * 802.1Q (0x8100) or 802.1ad (0x88A8) tag, a 4-byte tag (TPID, TCI) sits before the real
 * ethertype; this class sees through one such tag.
 */
public final class EthernetHeader {

    /** Untagged header length. */
    public static final int LENGTH = 14;
    /** Header length with one VLAN tag. */
    public static final int TAGGED_LENGTH = 18;
    /** The VLAN TCI that stands for "no tag" (an {@code EthernetFrame}'s {@code vlanTci} of an untagged frame). */
    public static final int NO_TAG = -1;

    private EthernetHeader() {
    }

    /** The destination MAC of the frame at {@code index}, as {@link MacAddress#bits()}. */
    public static long destination(ByteBuf frame, int index) {
        return MacAddress.readBits(frame, index);
    }

    /** The source MAC of the frame at {@code index}, as {@link MacAddress#bits()}. */
    public static long source(ByteBuf frame, int index) {
        return MacAddress.readBits(frame, index + 6);
    }

    /** The type field right after the addresses (the TPID when tagged). */
    public static int outerType(ByteBuf frame, int index) {
        return frame.getUnsignedShort(index + 12);
    }

    /** Whether {@code type} is a VLAN tag's TPID: 802.1Q (0x8100) or 802.1ad (0x88A8). */
    public static boolean isTagType(int type) {
        return type == EtherType.VLAN || type == EtherType.QINQ;
    }

    /**
     * The header length of the frame at {@code index} of {@code length} bytes: 14, 18 when tagged,
     * or -1 when the frame is too short for its header.
     */
    public static int headerLength(ByteBuf frame, int index, int length) {
        if (length < LENGTH) {
            return -1;
        }
        if (!isTagType(outerType(frame, index))) {
            return LENGTH;
        }
        return length < TAGGED_LENGTH ? -1 : TAGGED_LENGTH;
    }

    /** Appends an untagged header at the writer index of {@code out}. */
    public static void write(ByteBuf out, MacAddress destination, MacAddress source, int etherType) {
        out.ensureWritable(LENGTH);
        set(out, out.writerIndex(), destination.bits(), source.bits(), etherType);
        out.writerIndex(out.writerIndex() + LENGTH);
    }

    /** Writes an untagged header at {@code index}. */
    public static void set(ByteBuf buf, int index, long destination, long source, int etherType) {
        MacAddress.writeBits(buf, index, destination);
        MacAddress.writeBits(buf, index + 6, source);
        buf.setShort(index + 12, etherType);
    }

    /** Writes a tagged header (TPID 0x8100) at {@code index}. */
    public static void setTagged(ByteBuf buf, int index, long destination, long source, int tci, int etherType) {
        MacAddress.writeBits(buf, index, destination);
        MacAddress.writeBits(buf, index + 6, source);
        buf.setShort(index + 12, EtherType.VLAN);
        buf.setShort(index + 14, tci);
        buf.setShort(index + 16, etherType);
    }
}
