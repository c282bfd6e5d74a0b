package org.tuntap.examples;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import org.tuntap.codec.DropCounters;
import org.tuntap.codec.arp.ArpHandler;
import org.tuntap.codec.ethernet.EthernetCodec;
import org.tuntap.codec.ethernet.MacAddress;
import org.tuntap.codec.fragment.Ipv4ReassemblyHandler;
import org.tuntap.codec.fragment.Ipv6ReassemblyHandler;
import org.tuntap.codec.icmp.IcmpEchoResponder;
import org.tuntap.codec.ipv4.Ipv4Codec;
import org.tuntap.codec.ipv6.Ipv6Codec;
import org.tuntap.codec.pi.PiCodec;
import org.tuntap.codec.udp.UdpCodec;
import org.tuntap.codec.vnet.CoalescingHandler;
import org.tuntap.codec.vnet.GsoOffload;
import org.tuntap.codec.vnet.VnetSegmentationHandler;
import org.tuntap.transport.TunChannel;
import org.tuntap.transport.TunMode;
import org.tuntap.transport.pcap.TunPcapHandler;

import java.io.OutputStream;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Set;
import java.util.Map;
import java.util.StringJoiner;

/**
 * The echo's pipeline, the part a user copies:
 * <pre>
 * TUN: TunChannel → [pcap] → [PI] → IPv6 → reassembly → IPv4 → reassembly → UDP → ICMP echo → echo → errors
 * TAP: TunChannel → [pcap] → [PI] → Ethernet → ARP/NDP → IPv6 → reassembly → IPv4 → reassembly → UDP → ICMP echo → echo → errors
 * </pre>
 * The PI layer is there only when the channel carries packet information. With the transport's
 * {@code VNET_HDR} on (TUN or TAP), the virtio-net header's handlers come first: inbound,
 * {@link VnetSegmentationHandler} strips the header (and splits super-packets); outbound,
 * {@link CoalescingHandler} writes it, and the fused IPv4/UDP path writes the echoes of a read
 * batch into USO super-packets there ({@link #useOffloads} once the kernel has said which it
 * took). On TUN the echo speaks
 * both IP families and answers {@code ping} and {@code ping -6} for every address routed into the
 * device. On TAP it owns its echo addresses: the ARP layer answers ARP for the IPv4 ones and
 * neighbour solicitations for the IPv6 ones, so the kernel can reach it, and the echo answers
 * UDP and pings to them in both families. Datagrams the kernel fragmented (larger than the
 * device's MTU) are reassembled and echoed whole; a reassembly handler's drops count as its IP
 * layer's. {@link RateLimitedErrorLog}
 * takes what goes wrong (replies that cannot be encoded, say) without flooding the log.
 */
public final class EchoPipeline extends ChannelInitializer<TunChannel> {
    private final UdpEchoHandler echo;
    private final MacAddress mac;
    private final List<? extends InetAddress> ownAddresses;
    private final OutputStream pcap;
    private final RateLimitedErrorLog errors;
    /** Made with the channel: the coalescer for IP packets (TUN) or Ethernet frames (TAP). */
    private volatile CoalescingHandler coalescer;

    /** Each layer's drop counters by name, in pipeline order, once the channel is set up. */
    private volatile Map<String, List<DropCounters>> drops = Map.of();

    /** The pipeline with its errors printed to {@code System.err}, at most once per interval. */
    public EchoPipeline(UdpEchoHandler echo, MacAddress mac, List<? extends InetAddress> ownAddresses, OutputStream pcap) {
        this(echo, mac, ownAddresses, pcap, new RateLimitedErrorLog(System.err));
    }

    /**
     * @param mac          the echo's MAC address (TAP only)
     * @param ownAddresses the addresses the echo owns on TAP, IPv4 and IPv6 (ARP, neighbour discovery, pings)
     * @param pcap         where to write a capture of the device's packets, or null (closed with the channel)
     * @param errors       the pipeline's last handler
     */
    public EchoPipeline(UdpEchoHandler echo, MacAddress mac, List<? extends InetAddress> ownAddresses, OutputStream pcap,
                        RateLimitedErrorLog errors) {
        this.echo = echo;
        this.mac = mac;
        this.ownAddresses = ownAddresses;
        this.pcap = pcap;
        this.errors = errors;
    }

    @Override
    protected void initChannel(TunChannel channel) {
        ChannelPipeline pipeline = channel.pipeline();
        if (pcap != null) {
            // First, next to the channel: the packets as the kernel sees them, both directions.
            pipeline.addFirst("pcap", new TunPcapHandler(pcap));
        }
        boolean tap = channel.config().getMode() == TunMode.TAP;
        Map<String, List<DropCounters>> counters = new LinkedHashMap<>();
        if (channel.config().isVnetHdr()) {
            VnetSegmentationHandler segmentation = tap ? VnetSegmentationHandler.forEthernet() : new VnetSegmentationHandler();
            add(pipeline, "vnet", segmentation, "virtio-net", segmentation.dropCounters(), counters);
            coalescer = tap ? CoalescingHandler.forEthernet(Set.of()) : new CoalescingHandler(Set.of());
            pipeline.addLast("coalescer", coalescer);
        }
        if (channel.config().isPacketInfo()) {
            PiCodec pi = tap ? PiCodec.forTap() : PiCodec.forTun();
            add(pipeline, "pi", pi, "PI", pi.dropCounters(), counters);
        }
        if (tap) {
            EthernetCodec ethernet = new EthernetCodec();
            add(pipeline, "ethernet", ethernet, "Ethernet", ethernet.dropCounters(), counters);
            ArpHandler arp = new ArpHandler(mac, ownAddresses);
            add(pipeline, "arp", arp, "ARP", arp.dropCounters(), counters);
        }
        // IPv6 below IPv4: UDP gets both families, IPv4 stays fused (the reassembly handlers are
        // transparent to the fused path; only fragments stop at them).
        Ipv6Codec ipv6 = new Ipv6Codec().setPassFragments(true);
        add(pipeline, "ipv6", ipv6, "IPv6", ipv6.dropCounters(), counters);
        Ipv6ReassemblyHandler ipv6Reassembly = new Ipv6ReassemblyHandler();
        add(pipeline, "ipv6-reassembly", ipv6Reassembly, "IPv6", ipv6Reassembly.dropCounters(), counters);
        Ipv4Codec ipv4 = new Ipv4Codec().setPassFragments(true);
        add(pipeline, "ipv4", ipv4, "IPv4", ipv4.dropCounters(), counters);
        Ipv4ReassemblyHandler ipv4Reassembly = new Ipv4ReassemblyHandler();
        add(pipeline, "ipv4-reassembly", ipv4Reassembly, "IPv4", ipv4Reassembly.dropCounters(), counters);
        UdpCodec udp = new UdpCodec();
        add(pipeline, "udp", udp, "UDP", udp.dropCounters(), counters);
        IcmpEchoResponder ping = tap ? new IcmpEchoResponder(ownAddresses) : IcmpEchoResponder.forAnyAddress();
        add(pipeline, "icmp", ping, "ICMP", ping.dropCounters(), counters);
        pipeline.addLast("echo", echo);
        pipeline.addLast("errors", errors);
        drops = counters;
    }

    /**
     * The segmentation offloads the kernel accepted for the channel (with {@code VNET_HDR}):
     * which super-packets the coalescer may write. Until called it writes none; without
     * {@code VNET_HDR} there is no coalescer, and this does nothing.
     */
    public void useOffloads(Set<GsoOffload> offloads) {
        CoalescingHandler set = coalescer;
        if (set != null) { // none without VNET_HDR: nothing to merge into
            set.setOffloads(offloads);
        }
    }

    private static void add(ChannelPipeline pipeline, String name, ChannelHandler handler, String layer,
                            DropCounters counters, Map<String, List<DropCounters>> all) {
        pipeline.addLast(name, handler);
        all.computeIfAbsent(layer, l -> new ArrayList<>()).add(counters);
    }

    private static long total(List<DropCounters> counters) {
        return counters.stream().mapToLong(DropCounters::total).sum();
    }

    /** Packets a layer dropped (malformed, fragments, ...), by layer name ("IPv4"); 0 if absent. */
    public long drops(String layer) {
        List<DropCounters> counters = drops.get(layer);
        return counters == null ? 0 : total(counters);
    }

    /** "dropped by IPv4 0, UDP 0": every layer of this pipeline, lowest first. Any thread. */
    public String describeDrops() {
        StringJoiner text = new StringJoiner(", ", "dropped by ", "");
        drops.forEach((layer, counters) -> text.add(layer + " " + total(counters)));
        return text.toString();
    }
}
