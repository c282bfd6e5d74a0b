package org.tuntap.testkit;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import org.tuntap.codec.EtherType;
import org.tuntap.codec.arp.ArpPacket;
import org.tuntap.codec.ethernet.EthernetHeader;
import org.tuntap.codec.ethernet.MacAddress;
import org.tuntap.codec.icmp.Icmpv6Types;
import org.tuntap.codec.ipv4.Ipv4Addresses;
import org.tuntap.codec.ipv4.Ipv4Header;
import org.tuntap.codec.ipv6.Ipv6Addresses;
import org.tuntap.codec.ipv6.Ipv6Header;
import org.tuntap.codec.ndp.Ipv6Multicast;
import org.tuntap.codec.ndp.NdpMessage;
import org.tuntap.codec.ndp.NdpRepr;

import java.net.InetAddress;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * The kernel's side of an in-memory TAP device's link: what Linux does before it sends a packet
 * to the device and when the program sends it ARP or neighbour discovery. A datagram for a
 * unicast address whose MAC the network does not know waits (at most
 * {@link #PENDING_PER_ADDRESS} per address, the oldest dropped beyond that, as Linux's
 * {@code unres_qlen}) while an ARP request (IPv4) or a neighbour solicitation to the
 * solicited-node address (IPv6) goes to the program; the program's answer (or any ARP packet,
 * solicitation or advertisement of its) teaches the network its MAC and lets the waiting
 * datagrams go, to that MAC. Datagrams to broadcast and multicast addresses go to their group
 * MACs at once. The program's own ARP requests and solicitations are answered for any other
 * address, from {@link Tunnel#NETWORK_MAC}: the whole network stands behind the device. No clock:
 * a request goes out when the first datagram starts waiting. Guarded by its tunnel's lock.
 */
final class NetworkNeighbours {

    /** Linux's {@code unres_qlen}: datagrams kept per address while it is being resolved. */
    static final int PENDING_PER_ADDRESS = 101;

    /** Where frames for the program to read go (with the virtio-net header they came with, or null). */
    interface ReadQueue {
        void add(byte[] vnetHeader, byte[] frame);
    }

    private final long networkMac = Tunnel.NETWORK_MAC.bits();
    private final Map<InetAddress, Long> programMacs = new HashMap<>();
    private final Map<InetAddress, ArrayDeque<byte[][]>> pending = new HashMap<>();
    private final NdpRepr ndp = new NdpRepr();
    private long unresolvedDrops;

    /** The program's MAC for one of its addresses, as the network learned it; null if unknown. */
    MacAddress programMac(InetAddress address) {
        Long mac = programMacs.get(address);
        return mac == null ? null : MacAddress.of(mac);
    }

    /** A static entry (the network's {@code ip neigh add ... nud permanent}). */
    void setProgramMac(InetAddress address, MacAddress mac, ReadQueue out) {
        learn(address, mac.bits(), out);
    }

    /** Datagrams dropped because too many waited for one address. */
    long unresolvedDrops() {
        return unresolvedDrops;
    }

    /**
     * Sends an IP datagram to the program: framed to its MAC if known (or to the group MAC of a
     * broadcast or multicast destination), else kept while its address is asked for. A datagram
     * whose destination cannot be read (too short, not IPv4 or IPv6, unspecified) goes out
     * broadcast, as no kernel would send it but a test may.
     */
    void deliver(byte[] vnetHeader, byte[] datagram, ReadQueue out) {
        ByteBuf ip = Unpooled.wrappedBuffer(datagram);
        try {
            int version = Ipv4Header.version(ip, 0);
            long destinationMac;
            InetAddress destination;
            if (version == 4 && datagram.length >= Ipv4Header.MIN_LENGTH && Ipv4Header.destination(ip, 0) != 0) {
                int to = Ipv4Header.destination(ip, 0);
                destination = Ipv4Addresses.toInet(to);
                destinationMac = to == -1 ? MacAddress.BROADCAST.bits()
                        : (to >>> 28) == 0xE ? 0x01005E000000L | (to & 0x7FFFFF) : -1;
            } else if (version == 6 && datagram.length >= Ipv6Header.LENGTH
                    && (Ipv6Header.destinationHigh(ip, 0) | Ipv6Header.destinationLow(ip, 0)) != 0) {
                long high = Ipv6Header.destinationHigh(ip, 0);
                destination = Ipv6Addresses.toInet(high, Ipv6Header.destinationLow(ip, 0));
                destinationMac = Ipv6Multicast.isMulticast(high) ? Ipv6Multicast.macAddress(Ipv6Header.destinationLow(ip, 0)) : -1;
            } else {
                out.add(vnetHeader, frame(MacAddress.BROADCAST.bits(), version == 6 ? EtherType.IPV6 : EtherType.IPV4, datagram));
                return;
            }
            int etherType = version == 6 ? EtherType.IPV6 : EtherType.IPV4;
            if (destinationMac < 0) {
                Long known = programMacs.get(destination);
                if (known == null) {
                    wait(vnetHeader, datagram, destination, ip, version, out);
                    return;
                }
                destinationMac = known;
            }
            out.add(vnetHeader, frame(destinationMac, etherType, datagram));
        } finally {
            ip.release();
        }
    }

    private void wait(byte[] vnetHeader, byte[] datagram, InetAddress destination, ByteBuf ip, int version, ReadQueue out) {
        ArrayDeque<byte[][]> queue = pending.computeIfAbsent(destination, d -> new ArrayDeque<>());
        boolean first = queue.isEmpty();
        if (queue.size() == PENDING_PER_ADDRESS) {
            queue.removeFirst();
            unresolvedDrops++;
        }
        queue.addLast(new byte[][] {vnetHeader, datagram});
        if (first) {
            out.add(null, version == 4 ? arpRequest(ip) : solicitation(ip));
        }
    }

    /** Who has the datagram's destination? Asked from its source, if that is a unicast address. */
    private byte[] arpRequest(ByteBuf ip) {
        int source = Ipv4Header.source(ip, 0);
        boolean unicast = source != 0 && source != -1 && (source >>> 28) != 0xE && (source >>> 24) != 127;
        ByteBuf arp = Unpooled.buffer(ArpPacket.LENGTH);
        try {
            ArpPacket.write(arp, ArpPacket.REQUEST, networkMac, unicast ? source : 0, 0, Ipv4Header.destination(ip, 0));
            return frame(MacAddress.BROADCAST.bits(), EtherType.ARP, ByteBufUtil.getBytes(arp));
        } finally {
            arp.release();
        }
    }

    /** A neighbour solicitation for the datagram's destination, to its solicited-node group, from its source if unicast. */
    private byte[] solicitation(ByteBuf ip) {
        long sourceHigh = Ipv6Header.sourceHigh(ip, 0);
        long sourceLow = Ipv6Header.sourceLow(ip, 0);
        if (Ipv6Multicast.isMulticast(sourceHigh) || (sourceHigh | sourceLow) == 0) {
            sourceHigh = 0xFE80_0000_0000_0000L; // then the network's link-local address, as Linux picks one
            sourceLow = 0x0200_5EFF_FE00_5301L;  // (EUI-64 of NETWORK_MAC)
        }
        long targetHigh = Ipv6Header.destinationHigh(ip, 0);
        long targetLow = Ipv6Header.destinationLow(ip, 0);
        long group = Ipv6Multicast.solicitedNodeLow(targetLow);
        ndp.solicitation(targetHigh, targetLow, networkMac)
                .addresses(sourceHigh, sourceLow, Ipv6Multicast.LINK_LOCAL_HIGH, group);
        return ndpFrame(Ipv6Multicast.macAddress(group));
    }

    /**
     * Looks at a frame the program wrote (at {@code offset}, after any PI or virtio-net header):
     * ARP and neighbour discovery teach the network the program's MAC and are answered; other
     * frames are not looked into.
     */
    void observe(byte[] written, int offset, ReadQueue out) {
        if (written.length - offset < EthernetHeader.LENGTH) {
            return;
        }
        ByteBuf frame = Unpooled.wrappedBuffer(written, offset, written.length - offset);
        try {
            int etherType = frame.getUnsignedShort(12);
            long programMac = EthernetHeader.source(frame, 0);
            if (etherType == EtherType.ARP) {
                observeArp(frame, programMac, out);
            } else if (etherType == EtherType.IPV6) {
                observeNdp(frame, programMac, out);
            }
        } finally {
            frame.release();
        }
    }

    private void observeArp(ByteBuf frame, long programMac, ReadQueue out) {
        int at = EthernetHeader.LENGTH;
        if (ArpPacket.check(frame, at, frame.readableBytes() - at) != null) {
            return;
        }
        int senderIp = ArpPacket.senderIp(frame, at);
        long senderMac = ArpPacket.senderMac(frame, at);
        int targetIp = ArpPacket.targetIp(frame, at);
        if (senderIp != 0 && !MacAddress.isMulticast(senderMac)) {
            learn(Ipv4Addresses.toInet(senderIp), senderMac, out);
        }
        if (ArpPacket.operation(frame, at) == ArpPacket.REQUEST && targetIp != senderIp && targetIp != 0
                && !programMacs.containsKey(Ipv4Addresses.toInet(targetIp))) {
            ByteBuf reply = Unpooled.buffer(ArpPacket.LENGTH);
            try {
                ArpPacket.write(reply, ArpPacket.REPLY, networkMac, targetIp, senderMac, senderIp);
                out.add(null, frame(senderMac, EtherType.ARP, ByteBufUtil.getBytes(reply)));
            } finally {
                reply.release();
            }
        }
    }

    private void observeNdp(ByteBuf frame, long programMac, ReadQueue out) {
        int ip = EthernetHeader.LENGTH;
        int length = frame.readableBytes() - ip;
        if (Ipv6Header.check(frame, ip, length) != null || Ipv6Header.nextHeader(frame, ip) != Icmpv6Types.NEXT_HEADER) {
            return;
        }
        int message = ip + Ipv6Header.LENGTH;
        int messageLength = Ipv6Header.payloadLength(frame, ip);
        if (NdpMessage.check(frame, ip, message, messageLength) != null) {
            return;
        }
        long targetHigh = NdpMessage.targetHigh(frame, message);
        long targetLow = NdpMessage.targetLow(frame, message);
        if (NdpMessage.type(frame, message) == Icmpv6Types.NEIGHBOUR_ADVERTISEMENT) {
            long mac = NdpMessage.linkLayerAddress(frame, message, messageLength, NdpMessage.TARGET_LINK_LAYER_ADDRESS);
            learn(Ipv6Addresses.toInet(targetHigh, targetLow), mac >= 0 ? mac : programMac, out);
            return;
        }
        long sourceHigh = Ipv6Header.sourceHigh(frame, ip);
        long sourceLow = Ipv6Header.sourceLow(frame, ip);
        boolean duplicateProbe = (sourceHigh | sourceLow) == 0;
        long askerMac = NdpMessage.linkLayerAddress(frame, message, messageLength, NdpMessage.SOURCE_LINK_LAYER_ADDRESS);
        if (askerMac >= 0 && !duplicateProbe) {
            learn(Ipv6Addresses.toInet(sourceHigh, sourceLow), askerMac, out);
        }
        if (duplicateProbe || programMacs.containsKey(Ipv6Addresses.toInet(targetHigh, targetLow))) {
            return; // the program probing its own address, or asking for another of its own: nobody else has it
        }
        ndp.advertisement(targetHigh, targetLow, networkMac, NdpMessage.FLAG_SOLICITED | NdpMessage.FLAG_OVERRIDE)
                .addresses(targetHigh, targetLow, sourceHigh, sourceLow);
        out.add(null, ndpFrame(askerMac >= 0 ? askerMac : programMac));
    }

    /** The program is at {@code mac} for {@code address}; whatever waited for it goes now. */
    private void learn(InetAddress address, long mac, ReadQueue out) {
        if (MacAddress.isMulticast(mac) || mac == 0) {
            return;
        }
        programMacs.put(address, mac);
        ArrayDeque<byte[][]> waiting = pending.remove(address);
        if (waiting != null) {
            int etherType = address.getAddress().length == 16 ? EtherType.IPV6 : EtherType.IPV4;
            for (byte[][] item : waiting) {
                out.add(item[0], frame(mac, etherType, item[1]));
            }
        }
    }

    private byte[] ndpFrame(long destinationMac) {
        ByteBuf packet = Unpooled.buffer(ndp.packetLength());
        try {
            ndp.emitPacket(packet);
            return frame(destinationMac, EtherType.IPV6, ByteBufUtil.getBytes(packet));
        } finally {
            packet.release();
        }
    }

    private byte[] frame(long destinationMac, int etherType, byte[] payload) {
        byte[] frame = new byte[EthernetHeader.LENGTH + payload.length];
        ByteBuf view = Unpooled.wrappedBuffer(frame);
        try {
            EthernetHeader.set(view, 0, destinationMac, networkMac, etherType);
        } finally {
            view.release();
        }
        System.arraycopy(payload, 0, frame, EthernetHeader.LENGTH, payload.length);
        return frame;
    }
}
