package org.tuntap.examples;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.pcap.PcapWriteHandler;
import org.tuntap.codec.arp.ArpHandler;
import org.tuntap.codec.ethernet.EthernetCodec;
import org.tuntap.codec.ethernet.MacAddress;
import org.tuntap.codec.ipv4.Ipv4Codec;
import org.tuntap.codec.pi.PiCodec;
import org.tuntap.codec.udp.UdpCodec;
import org.tuntap.transport.TunChannel;
import org.tuntap.transport.TunMode;

import java.io.OutputStream;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * The echo's pipeline, the part a user copies:
 * <pre>
 * TUN: TunChannel → [PI] → IPv4 → UDP → [pcap] → echo
 * TAP: TunChannel → [PI] → Ethernet → ARP → IPv4 → UDP → [pcap] → echo
 * </pre>
 * The PI layer is there only when the channel carries packet information; ARP answers for the
 * addresses the echo owns, so the kernel can reach it on a TAP device.
 */
public final class EchoPipeline extends ChannelInitializer<TunChannel> {
    private final UdpEchoHandler echo;
    private final MacAddress mac;
    private final List<Inet4Address> ownAddresses;
    private final OutputStream pcap;

    private Ipv4Codec ipv4;
    private UdpCodec udp;

    /**
     * @param mac          the echo's MAC address (TAP only)
     * @param ownAddresses the addresses the echo answers ARP for (TAP only)
     * @param pcap         where to write a capture of the datagrams, or null
     */
    public EchoPipeline(UdpEchoHandler echo, MacAddress mac, List<Inet4Address> ownAddresses, OutputStream pcap) {
        this.echo = echo;
        this.mac = mac;
        this.ownAddresses = ownAddresses;
        this.pcap = pcap;
    }

    @Override
    protected void initChannel(TunChannel channel) {
        ChannelPipeline pipeline = channel.pipeline();
        boolean tap = channel.config().getMode() == TunMode.TAP;
        if (channel.config().isPacketInfo()) {
            pipeline.addLast("pi", tap ? PiCodec.forTap() : PiCodec.forTun());
        }
        if (tap) {
            pipeline.addLast("ethernet", new EthernetCodec());
            pipeline.addLast("arp", new ArpHandler(mac, ownAddresses));
        }
        ipv4 = new Ipv4Codec();
        udp = new UdpCodec();
        pipeline.addLast("ipv4", ipv4);
        pipeline.addLast("udp", udp);
        if (pcap != null) {
            // Netty's own capture writer, at the datagram layer: it frames each DatagramPacket in
            // made-up Ethernet/IPv4/UDP headers with the packet's real addresses and ports.
            InetSocketAddress unknown = new InetSocketAddress(0);
            pipeline.addLast("pcap", PcapWriteHandler.builder().forceUdpChannel(unknown, unknown).build(pcap));
        }
        pipeline.addLast("echo", echo);
    }

    /** Packets the IPv4 layer dropped (malformed, fragments, ...), once the channel is set up. */
    public long ipv4Drops() {
        return ipv4 == null ? 0 : ipv4.dropCounters().total();
    }

    /** Datagrams the UDP layer dropped (bad length or checksum), once the channel is set up. */
    public long udpDrops() {
        return udp == null ? 0 : udp.dropCounters().total();
    }
}
