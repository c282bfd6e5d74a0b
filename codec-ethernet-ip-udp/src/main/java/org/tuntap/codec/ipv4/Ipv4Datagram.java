package org.tuntap.codec.ipv4;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;

import java.net.Inet4Address;

/**
 * An outbound request to the IPv4 layer: send {@link #content()} (a transport segment, e.g. a
 * UDP header and payload) from {@link #source()} to {@link #destination()} with this protocol
 * number. {@link Ipv4Codec} puts the header in front; TTL, DSCP, DF and identification come
 * from the codec's settings.
 */
public final class Ipv4Datagram extends DefaultByteBufHolder {

    private final int source;
    private final int destination;
    private final int protocol;

    /** Addresses as big-endian ints (see {@link Ipv4Addresses#toInt}). */
    public Ipv4Datagram(int source, int destination, int protocol, ByteBuf segment) {
        super(segment);
        if (protocol < 0 || protocol > 0xFF) {
            throw new IllegalArgumentException("protocol must be within 0..255: " + protocol);
        }
        this.source = source;
        this.destination = destination;
        this.protocol = protocol;
    }

    /** The same with the addresses as {@link Inet4Address}es. */
    public Ipv4Datagram(Inet4Address source, Inet4Address destination, int protocol, ByteBuf segment) {
        this(Ipv4Addresses.toInt(source), Ipv4Addresses.toInt(destination), protocol, segment);
    }

    /** The source address as a big-endian int. */
    public int source() {
        return source;
    }

    /** The destination address as a big-endian int. */
    public int destination() {
        return destination;
    }

    /** The IP protocol number of the segment (17 for UDP). */
    public int protocol() {
        return protocol;
    }

    /** A datagram with the same addresses and protocol over {@code content}. */
    @Override
    public Ipv4Datagram replace(ByteBuf content) {
        return new Ipv4Datagram(source, destination, protocol, content);
    }

    /** A datagram like this one over a deep copy of the content. */
    @Override
    public Ipv4Datagram copy() {
        return replace(content().copy());
    }

    /** A datagram like this one over a duplicate of the content (shared bytes, own indices, no new reference). */
    @Override
    public Ipv4Datagram duplicate() {
        return replace(content().duplicate());
    }

    /** A datagram like this one over a retained duplicate of the content (release it). */
    @Override
    public Ipv4Datagram retainedDuplicate() {
        return replace(content().retainedDuplicate());
    }

    /** Retains the content; returns this. */
    @Override
    public Ipv4Datagram retain() {
        super.retain();
        return this;
    }

    /** Retains the content {@code increment} times; returns this. */
    @Override
    public Ipv4Datagram retain(int increment) {
        super.retain(increment);
        return this;
    }

    /** Records this access to the content for the leak detector; returns this. */
    @Override
    public Ipv4Datagram touch() {
        super.touch();
        return this;
    }

    /** Records this access to the content, with a hint, for the leak detector; returns this. */
    @Override
    public Ipv4Datagram touch(Object hint) {
        super.touch(hint);
        return this;
    }

    /** Addresses, protocol and the segment's length, for logs. */
    @Override
    public String toString() {
        return "Ipv4Datagram(" + Ipv4Addresses.toString(source) + " -> " + Ipv4Addresses.toString(destination)
                + ", protocol=" + protocol + ", " + content().readableBytes() + " bytes)";
    }
}
