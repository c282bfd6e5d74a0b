package org.tuntap.examples;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import org.tuntap.codec.arp.ArpHandler;
import org.tuntap.codec.ethernet.EthernetCodec;
import org.tuntap.codec.ethernet.MacAddress;
import org.tuntap.codec.ipv4.Ipv4Codec;
import org.tuntap.codec.pi.PiCodec;
import org.tuntap.codec.udp.UdpCodec;
import org.tuntap.transport.TunChannel;
import org.tuntap.transport.TunMode;
import org.tuntap.transport.pcap.TunPcapHandler;

import java.io.OutputStream;
import java.net.Inet4Address;
import java.util.List;

/**
 * The echo's pipeline, the part a user copies:
 * <pre>
 * TUN: TunChannel → [pcap] → [PI] → IPv4 → UDP → echo
 * TAP: TunChannel → [pcap] → [PI] → Ethernet → ARP → IPv4 → UDP → echo
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
     * @param pcap         where to write a capture of the device's packets, or null (closed with the channel)
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
        if (pcap != null) {
            // First, next to the channel: the packets as the kernel sees them, both directions.
            pipeline.addFirst("pcap", new TunPcapHandler(pcap));
        }
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
