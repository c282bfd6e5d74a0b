package org.tuntap.transport.pcap;

import io.netty.buffer.ByteBuf;

import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;

/**
 * The classic libpcap file format (what tcpdump, tshark and Wireshark read): a 24-byte global
 * header, then per packet a 16-byte record header and the packet's bytes. Written big-endian with
 * the magic {@code 0xa1b2c3d4}, microsecond timestamps, whole packets (nothing cut at the snap
 * length). Not thread-safe: one writer, the channel's event loop.
 */
public final class PcapWriter implements Closeable {
    /** {@code LINKTYPE_ETHERNET}: Ethernet II frames (a TAP device). */
    public static final int LINKTYPE_ETHERNET = 1;
    /** {@code LINKTYPE_RAW}: bare IPv4 or IPv6 packets (a TUN device). */
    public static final int LINKTYPE_RAW = 101;
    /** The largest packet a record claims to hold: tcpdump's default snap length. */
    public static final int SNAP_LENGTH = 262_144;

    private static final int MAGIC_MICROSECONDS = 0xa1b2c3d4;
    private static final int GLOBAL_HEADER_LENGTH = 24;
    private static final int RECORD_HEADER_LENGTH = 16;

    private final OutputStream out;
    private final byte[] header = new byte[GLOBAL_HEADER_LENGTH];

    /** Writes the global header for {@code linkType} to {@code out}, which this writer then owns. */
    public PcapWriter(OutputStream out, int linkType) throws IOException {
        this.out = out;
        putInt(header, 0, MAGIC_MICROSECONDS);
        putShort(header, 4, 2); // version 2.4
        putShort(header, 6, 4);
        putInt(header, 8, 0);   // thiszone: timestamps are UTC
        putInt(header, 12, 0);  // sigfigs
        putInt(header, 16, SNAP_LENGTH);
        putInt(header, 20, linkType);
        out.write(header, 0, GLOBAL_HEADER_LENGTH);
    }

    /**
     * Appends one packet: {@code length} bytes of {@code packet} from {@code index} (its indexes
     * are left as they are), stamped {@code epochMicros} (microseconds since 1970, UTC).
     */
    public void write(long epochMicros, ByteBuf packet, int index, int length) throws IOException {
        int captured = Math.min(length, SNAP_LENGTH);
        putInt(header, 0, (int) (epochMicros / 1_000_000));
        putInt(header, 4, (int) (epochMicros % 1_000_000));
        putInt(header, 8, captured);
        putInt(header, 12, length);
        out.write(header, 0, RECORD_HEADER_LENGTH);
        packet.getBytes(index, out, captured);
    }

    public void flush() throws IOException {
        out.flush();
    }

    @Override
    public void close() throws IOException {
        out.close();
    }

    private static void putInt(byte[] bytes, int at, int value) {
        bytes[at] = (byte) (value >>> 24);
        bytes[at + 1] = (byte) (value >>> 16);
        bytes[at + 2] = (byte) (value >>> 8);
        bytes[at + 3] = (byte) value;
    }

    private static void putShort(byte[] bytes, int at, int value) {
        bytes[at] = (byte) (value >>> 8);
        bytes[at + 1] = (byte) value;
    }
}
