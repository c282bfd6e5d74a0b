package org.tuntap.codec.ipv6;

import io.netty.buffer.ByteBuf;

import java.net.Inet6Address;

/**
 * What a fixed IPv6 header should say, for building one: set the fields, then {@link #emit} the
 * header in front of a payload (which may start with extension headers: set
 * {@link #nextHeader} to the first of them). Mutable and reusable, so an encoder can keep one
 * and build every header without allocating.
 *
 * <p>Defaults: hop limit 64, traffic class 0, flow label 0.
 */
public final class Ipv6Repr {

    private long sourceHigh;
    private long sourceLow;
    private long destinationHigh;
    private long destinationLow;
    private int nextHeader;
    private int hopLimit = 64;
    private int trafficClass;
    private int flowLabel;

    /** The source address as two longs (see {@link Ipv6Addresses}). */
    public Ipv6Repr source(long high, long low) {
        this.sourceHigh = high;
        this.sourceLow = low;
        return this;
    }

    public Ipv6Repr source(Inet6Address address) {
        return source(Ipv6Addresses.high(address), Ipv6Addresses.low(address));
    }

    public Ipv6Repr destination(long high, long low) {
        this.destinationHigh = high;
        this.destinationLow = low;
        return this;
    }

    public Ipv6Repr destination(Inet6Address address) {
        return destination(Ipv6Addresses.high(address), Ipv6Addresses.low(address));
    }

    /** The header that follows: an extension header or the upper-layer protocol (17 for UDP). */
    public Ipv6Repr nextHeader(int nextHeader) {
        this.nextHeader = checkRange("nextHeader", nextHeader, 0xFF);
        return this;
    }

    public Ipv6Repr hopLimit(int hopLimit) {
        this.hopLimit = checkRange("hopLimit", hopLimit, 0xFF);
        return this;
    }

    /** The whole traffic class byte ({@code DSCP << 2 | ECN}). */
    public Ipv6Repr trafficClass(int trafficClass) {
        this.trafficClass = checkRange("trafficClass", trafficClass, 0xFF);
        return this;
    }

    /** Differentiated services code point, 0..63 (the ECN bits are kept). */
    public Ipv6Repr dscp(int dscp) {
        this.trafficClass = checkRange("dscp", dscp, 0x3F) << 2 | (trafficClass & 0x03);
        return this;
    }

    /** The 20-bit flow label (RFC 6437). */
    public Ipv6Repr flowLabel(int flowLabel) {
        this.flowLabel = checkRange("flowLabel", flowLabel, 0xFFFFF);
        return this;
    }

    public long sourceHigh() {
        return sourceHigh;
    }

    public long sourceLow() {
        return sourceLow;
    }

    public long destinationHigh() {
        return destinationHigh;
    }

    public long destinationLow() {
        return destinationLow;
    }

    public int nextHeader() {
        return nextHeader;
    }

    public int hopLimit() {
        return hopLimit;
    }

    public int trafficClass() {
        return trafficClass;
    }

    public int flowLabel() {
        return flowLabel;
    }

    /**
     * Writes the 40-byte header at {@code index} of {@code buf} (indices unchanged) for a payload
     * (extension headers and upper-layer data) of {@code payloadLength} bytes.
     *
     * @throws IllegalArgumentException if the payload exceeds 65535 bytes
     */
    public void emit(ByteBuf buf, int index, int payloadLength) {
        if (payloadLength < 0 || payloadLength > Ipv6Header.MAX_PAYLOAD_LENGTH) {
            throw new IllegalArgumentException("IPv6 payload of " + payloadLength + " bytes exceeds 65535");
        }
        buf.setInt(index, 6 << 28 | trafficClass << 20 | flowLabel);
        buf.setShort(index + 4, payloadLength);
        buf.setByte(index + 6, nextHeader);
        buf.setByte(index + 7, hopLimit);
        buf.setLong(index + 8, sourceHigh);
        buf.setLong(index + 16, sourceLow);
        buf.setLong(index + 24, destinationHigh);
        buf.setLong(index + 32, destinationLow);
    }

    private static int checkRange(String name, int value, int max) {
        if (value < 0 || value > max) {
            throw new IllegalArgumentException(name + " must be within 0.." + max + ": " + value);
        }
        return value;
    }

    @Override
    public String toString() {
        return "Ipv6Repr(" + Ipv6Addresses.toString(sourceHigh, sourceLow) + " -> "
                + Ipv6Addresses.toString(destinationHigh, destinationLow) + ", nextHeader=" + nextHeader
                + ", hopLimit=" + hopLimit + ", trafficClass=" + trafficClass + ", flowLabel=" + flowLabel + ")";
    }
}
