package org.tuntap.codec.ipv4;

import io.netty.buffer.ByteBuf;
import org.tuntap.codec.checksum.InternetChecksum;

import java.net.Inet4Address;

/**
 * What an IPv4 header should say, for building one (the "representation" of smoltcp's wire
 * module): set the fields, then {@link #emit} the header in front of a payload. Mutable and
 * reusable, so an encoder can keep one and build every header without allocating.
 *
 * <p>Defaults: TTL 64, identification 0, DSCP 0, ECN 0, DF off, no options.
 */
public final class Ipv4Repr {

    private static final byte[] NO_OPTIONS = new byte[0];

    private int source;
    private int destination;
    private int protocol;
    private int ttl = 64;
    private int identification;
    private int dscp;
    private int ecn;
    private boolean dontFragment;
    private byte[] options = NO_OPTIONS;

    /** A representation with the defaults above and addresses 0.0.0.0. */
    public Ipv4Repr() {
    }

    /**
     * Sets the source address.
     *
     * @param address a big-endian int, as {@link Ipv4Addresses#toInt(Inet4Address)} makes
     * @return this
     */
    public Ipv4Repr source(int address) {
        this.source = address;
        return this;
    }

    /**
     * Sets the source address.
     *
     * @param address the address
     * @return this
     */
    public Ipv4Repr source(Inet4Address address) {
        return source(Ipv4Addresses.toInt(address));
    }

    /**
     * Sets the destination address.
     *
     * @param address a big-endian int, as {@link Ipv4Addresses#toInt(Inet4Address)} makes
     * @return this
     */
    public Ipv4Repr destination(int address) {
        this.destination = address;
        return this;
    }

    /**
     * Sets the destination address.
     *
     * @param address the address
     * @return this
     */
    public Ipv4Repr destination(Inet4Address address) {
        return destination(Ipv4Addresses.toInt(address));
    }

    /** The payload's protocol number (17 for UDP). */
    public Ipv4Repr protocol(int protocol) {
        this.protocol = checkRange("protocol", protocol, 0xFF);
        return this;
    }

    /** Time to live, 0..255 (default 64). */
    public Ipv4Repr ttl(int ttl) {
        this.ttl = checkRange("ttl", ttl, 0xFF);
        return this;
    }

    /** The identification field, 0..65535. */
    public Ipv4Repr identification(int identification) {
        this.identification = checkRange("identification", identification, 0xFFFF);
        return this;
    }

    /** Differentiated services code point, 0..63. */
    public Ipv4Repr dscp(int dscp) {
        this.dscp = checkRange("dscp", dscp, 0x3F);
        return this;
    }

    /** Explicit congestion notification bits, 0..3. */
    public Ipv4Repr ecn(int ecn) {
        this.ecn = checkRange("ecn", ecn, 0x03);
        return this;
    }

    /** Sets or clears the DF flag. */
    public Ipv4Repr dontFragment(boolean dontFragment) {
        this.dontFragment = dontFragment;
        return this;
    }

    /**
     * Raw option bytes, copied into every header; their length must be a multiple of 4 and at
     * most 40 (pad with End-of-Options zeros).
     */
    public Ipv4Repr options(byte[] options) {
        if (options.length % 4 != 0 || options.length > Ipv4Header.MAX_LENGTH - Ipv4Header.MIN_LENGTH) {
            throw new IllegalArgumentException("options must be a multiple of 4 bytes, at most 40: " + options.length);
        }
        this.options = options.length == 0 ? NO_OPTIONS : options.clone();
        return this;
    }

    /** The source address, as a big-endian int. */
    public int source() {
        return source;
    }

    /** The destination address, as a big-endian int. */
    public int destination() {
        return destination;
    }

    /** The payload's protocol number. */
    public int protocol() {
        return protocol;
    }

    /** Time to live. */
    public int ttl() {
        return ttl;
    }

    /** The identification field. */
    public int identification() {
        return identification;
    }

    /** Differentiated services code point. */
    public int dscp() {
        return dscp;
    }

    /** Explicit congestion notification bits. */
    public int ecn() {
        return ecn;
    }

    /** Whether the DF flag is set. */
    public boolean dontFragment() {
        return dontFragment;
    }

    /** The header length this representation emits. */
    public int headerLength() {
        return Ipv4Header.MIN_LENGTH + options.length;
    }

    /**
     * Writes the header at {@code index} of {@code buf} (indices unchanged) for a payload of
     * {@code payloadLength} bytes, with the header checksum computed or left 0.
     *
     * @throws IllegalArgumentException if the packet would exceed 65535 bytes
     */
    public void emit(ByteBuf buf, int index, int payloadLength, boolean computeChecksum) {
        int headerLength = headerLength();
        int totalLength = headerLength + payloadLength;
        if (payloadLength < 0 || totalLength > Ipv4Header.MAX_TOTAL_LENGTH) {
            throw new IllegalArgumentException("IPv4 packet of " + totalLength + " bytes exceeds 65535");
        }
        int versionAndTos = (0x40 | (headerLength >>> 2)) << 8 | (dscp << 2) | ecn;
        int flags = dontFragment ? Ipv4Header.FLAG_DF : 0;
        int ttlAndProtocol = ttl << 8 | protocol;
        int checksum = computeChecksum && options.length == 0
                ? checksum(versionAndTos, totalLength, flags, ttlAndProtocol) : 0;
        // RFC 791's twenty bytes as two longs and an int (big-endian, as ByteBuf writes them):
        // three writes rather than eleven, each of which checks the buffer.
        buf.setLong(index, (long) versionAndTos << 48 | (long) totalLength << 32
                | (long) identification << 16 | flags);
        buf.setLong(index + 8, (long) ttlAndProtocol << 48 | (long) checksum << 32 | (source & 0xFFFF_FFFFL));
        buf.setInt(index + 16, destination);
        if (options.length != 0) {
            buf.setBytes(index + Ipv4Header.MIN_LENGTH, options);
            if (computeChecksum) {
                Ipv4Header.updateChecksum(buf, index);
            }
        }
    }

    /** The checksum of a header without options, summed from its 16-bit words. */
    private int checksum(int versionAndTos, int totalLength, int flags, int ttlAndProtocol) {
        long sum = versionAndTos + totalLength + identification + flags + ttlAndProtocol;
        sum = InternetChecksum.addInt(sum, source);
        sum = InternetChecksum.addInt(sum, destination);
        return InternetChecksum.finish(sum);
    }

    private static int checkRange(String name, int value, int max) {
        if (value < 0 || value > max) {
            throw new IllegalArgumentException(name + " must be within 0.." + max + ": " + value);
        }
        return value;
    }

    @Override
    public String toString() {
        return "Ipv4Repr(" + Ipv4Addresses.toString(source) + " -> " + Ipv4Addresses.toString(destination)
                + ", protocol=" + protocol + ", ttl=" + ttl + ", id=" + identification + ", dscp=" + dscp
                + ", ecn=" + ecn + ", df=" + dontFragment + ", options=" + options.length + " bytes)";
    }
}
