package org.tuntap.codec.pi;

import io.netty.buffer.ByteBuf;

import java.nio.ByteOrder;

/**
 * The 4-byte packet-information header the kernel puts in front of every packet unless the
 * device was opened with {@code IFF_NO_PI}: {@code struct tun_pi { u16 flags; be16 proto; }}.
 * The flags are in host byte order, the protocol is a big-endian ethertype.
 */
public final class PiHeader {

    /** Length of the header. */
    public static final int LENGTH = 4;
    /** Flag set by the kernel when the packet was cut to fit the reader's buffer. */
    public static final int TUN_PKT_STRIP = 0x0001;

    private static final boolean HOST_LITTLE_ENDIAN = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;

    private PiHeader() {
    }

    /** The flags field at {@code index}, read in host byte order. */
    public static int flags(ByteBuf buf, int index) {
        return HOST_LITTLE_ENDIAN ? buf.getUnsignedShortLE(index) : buf.getUnsignedShort(index);
    }

    /** The protocol (ethertype) field of the header at {@code index}. */
    public static int proto(ByteBuf buf, int index) {
        return buf.getUnsignedShort(index + 2);
    }

    /** Appends a header at the writer index of {@code out}. */
    public static void write(ByteBuf out, int flags, int proto) {
        out.ensureWritable(LENGTH);
        set(out, out.writerIndex(), flags, proto);
        out.writerIndex(out.writerIndex() + LENGTH);
    }

    /** Writes a header at {@code index} (flags in host byte order). */
    public static void set(ByteBuf buf, int index, int flags, int proto) {
        if (HOST_LITTLE_ENDIAN) {
            buf.setShortLE(index, flags);
        } else {
            buf.setShort(index, flags);
        }
        buf.setShort(index + 2, proto);
    }
}
