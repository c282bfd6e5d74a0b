package org.tuntap.codec;

/**
 * What the layers of a {@link FusedStack} tell each other about the packet going through, in
 * place of the messages the layered path passes ({@code EthernetFrame}, {@code Ipv4Packet},
 * {@code Ipv4Datagram}). One per stack, reused for every packet; only the stack's event loop
 * touches it.
 */
public final class FusedFields {

    private int end;
    private int etherType;
    private long sourceMac;
    private long destinationMac;
    private int source;
    private int destination;
    private int protocol;
    private int transportLength;
    private int sourcePort;
    private int destinationPort;

    FusedFields() {
    }

    /** Inbound: the index after the current layer's last byte (the IPv4 layer cuts link padding). */
    public int end() {
        return end;
    }

    /**
     * Sets {@link #end()}: the stack starts it at the packet's writer index; a layer that knows its
     * own length (IPv4, UDP) lowers it.
     */
    public void end(int end) {
        this.end = end;
    }

    /** The ethertype of the Ethernet layer's payload. */
    public int etherType() {
        return etherType;
    }

    /** Sets {@link #etherType()}. */
    public void etherType(int etherType) {
        this.etherType = etherType;
    }

    /** The Ethernet source address, as {@code MacAddress.bits()}. */
    public long sourceMac() {
        return sourceMac;
    }

    /** Sets {@link #sourceMac()}. */
    public void sourceMac(long sourceMac) {
        this.sourceMac = sourceMac;
    }

    /** The Ethernet destination address, as {@code MacAddress.bits()}. */
    public long destinationMac() {
        return destinationMac;
    }

    /** Sets {@link #destinationMac()}. */
    public void destinationMac(long destinationMac) {
        this.destinationMac = destinationMac;
    }

    /** The IPv4 source address as a big-endian int. */
    public int source() {
        return source;
    }

    /** Sets {@link #source()}. */
    public void source(int source) {
        this.source = source;
    }

    /** The IPv4 destination address as a big-endian int. */
    public int destination() {
        return destination;
    }

    /** Sets {@link #destination()}. */
    public void destination(int destination) {
        this.destination = destination;
    }

    /** The IP protocol number of the transport layer. */
    public int protocol() {
        return protocol;
    }

    /** Sets {@link #protocol()}. */
    public void protocol(int protocol) {
        this.protocol = protocol;
    }

    /** Outbound: the length of the transport segment (its header and payload). */
    public int transportLength() {
        return transportLength;
    }

    /** Sets {@link #transportLength()}. */
    public void transportLength(int transportLength) {
        this.transportLength = transportLength;
    }

    /**
     * The transport's source port: inbound, the read packet's (set by the top layer's decode);
     * outbound, the written one's (what a {@link FusedWriteMerger} tells flows apart by).
     */
    public int sourcePort() {
        return sourcePort;
    }

    /** The transport's destination port, inbound and outbound as {@link #sourcePort()}. */
    public int destinationPort() {
        return destinationPort;
    }

    /** Sets {@link #sourcePort()} and {@link #destinationPort()}. */
    public void ports(int sourcePort, int destinationPort) {
        this.sourcePort = sourcePort;
        this.destinationPort = destinationPort;
    }
}
