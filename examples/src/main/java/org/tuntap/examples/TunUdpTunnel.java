package org.tuntap.examples;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.socket.DatagramPacket;
import org.tuntap.codec.vnet.VirtioNetHeader;
import org.tuntap.transport.TunAddress;
import org.tuntap.transport.TunChannel;
import org.tuntap.transport.TunChannelConfig;
import org.tuntap.transport.TunChannelCounters;
import org.tuntap.transport.TunChannelOption;
import org.tuntap.transport.TunOffload;
import org.tuntap.transport.linux.LinuxTun;
import org.tuntap.transport.spi.TunIoSystem;

import java.net.InetSocketAddress;
import java.util.EnumSet;
import java.util.concurrent.TimeUnit;

/**
 * A VPN in its simplest shape (no encryption, one peer): a TUN device on one side, a UDP socket
 * ({@link EpollDatagramChannel}) on the other, both on one epoll event loop. Every packet read
 * from the device goes to the peer in UDP; every datagram from the peer is written to the device.
 *
 * <pre>java -jar tun-vpn.jar --device NAME --listen IP:PORT --peer IP:PORT [--offload] [--link-mtu BYTES]</pre>
 *
 * <p>Plain, each IP packet is one datagram, so the device's MTU must leave room for the outer IP
 * and UDP headers (28 bytes over IPv4: 1472 on a 1500-byte link; 1420 is customary). With
 * {@code --offload} the device hands over TCP (and UDP) super-packets of up to 64 KiB with a
 * {@link VirtioNetHeader} in front; the tunnel carries each read whole, header and all, to the
 * peer's device, which the kernel there segments or delivers as it stands: no segmentation or
 * checksum work in the JVM at either end. For that the read is cut into chunks that fit the link
 * ({@link ChunkSplitter}, a {@link TunnelChunk} header each), sent with UDP GSO (one
 * {@code sendmsg} for up to 64 datagrams), received with UDP GRO (one {@code recvmsg} for many)
 * and joined at the peer ({@link ChunkReassembler}). Both ends must therefore be this tunnel with
 * {@code --offload}; the datagrams are not IP packets a stranger could read.
 *
 * <p>Prints {@code ready} once the device and socket are open, runs until SIGTERM (or the device
 * goes away), then prints the packets and bytes carried each way, every drop, and how often
 * either side had to stop reading because the other could take no more.
 */
public final class TunUdpTunnel {
    /** What the socket asks for each way (Linux doubles it for its bookkeeping). */
    static final int SOCKET_BUFFER_BYTES = 4 << 20;
    /** Reads of the socket per read loop, as many as the device's ({@link TunChannelConfig#DEFAULT_READ_BUDGET}). */
    static final int SOCKET_READ_BUDGET = TunChannelConfig.DEFAULT_READ_BUDGET;
    /** The most a GRO read hands over: 64 KiB of datagrams. */
    static final int GRO_READ_BYTES = 65536;

    private TunUdpTunnel() {
    }

    public static void main(String[] args) throws Exception {
        TunnelOptions options;
        try {
            options = TunnelOptions.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.err.println(TunnelOptions.USAGE);
            System.exit(2);
            return;
        }
        LinuxTun.ensureAvailability();
        UdpEchoApp.setNettyMachineId();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        Endpoint endpoint;
        try {
            endpoint = start(LinuxTun.ioSystem(), group, options);
        } catch (Exception e) {
            System.err.println("cannot start the tunnel: " + e);
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            System.exit(1);
            return;
        }
        StopSignal stop = new StopSignal();
        Runtime.getRuntime().addShutdownHook(stop.shutdownHook());
        endpoint.closeFuture().addListener(f -> stop.request(StopSignal.Reason.DEVICE_CLOSED));
        System.out.println("ready " + endpoint.describe());
        System.out.flush();
        StopSignal.Reason reason = stop.await(0);
        endpoint.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        System.out.println(endpoint.totals());
        System.out.flush();
        stop.finished();
        if (reason == StopSignal.Reason.DEVICE_CLOSED) {
            System.exit(1);
        }
    }

    /** Opens the device and the socket on {@code group} (one loop: both channels land on it) and starts carrying. */
    static Endpoint start(TunIoSystem io, EventLoopGroup group, TunnelOptions options) throws InterruptedException {
        DeviceToPeer deviceToPeer = new DeviceToPeer(options.peer,
                options.offload ? new ChunkSplitter(options.datagramBytes(),
                        EpollDatagramChannel.isSegmentedDatagramPacketSupported()) : null);
        PeerToDevice peerToDevice = new PeerToDevice(options.peer, options.offload ? new ChunkReassembler() : null);

        Bootstrap tunBootstrap = new Bootstrap().group(group)
                .channelFactory(TunChannel.factory(io))
                .option(ChannelOption.AUTO_READ, false) // until the socket exists
                .handler(deviceToPeer);
        if (options.offload) {
            tunBootstrap.option(TunChannelOption.VNET_HDR, true)
                    .option(TunChannelOption.OFFLOADS, EnumSet.allOf(TunOffload.class));
        }
        TunChannel tun = (TunChannel) tunBootstrap.bind(new TunAddress(options.device)).sync().channel();

        Bootstrap udpBootstrap = new Bootstrap().group(group)
                .channel(EpollDatagramChannel.class)
                .option(ChannelOption.AUTO_READ, false)
                // The default receive buffer (208 KiB) holds about 2 ms of a Gbit/s: a loop thread
                // descheduled longer drops datagrams, and the TCP inside takes each drop for
                // congestion. The kernel caps these at net.core.rmem_max / wmem_max.
                .option(ChannelOption.SO_RCVBUF, SOCKET_BUFFER_BYTES)
                .option(ChannelOption.SO_SNDBUF, SOCKET_BUFFER_BYTES)
                .handler(peerToDevice);
        if (options.offload) {
            // GRO hands over up to 64 KiB of datagrams per read; Netty splits them again.
            udpBootstrap.option(EpollChannelOption.UDP_GRO, true);
        }
        udpBootstrap.option(ChannelOption.RCVBUF_ALLOCATOR, socketReadAllocator(options));
        Channel udp;
        try {
            udp = udpBootstrap.bind(options.listen).sync().channel();
        } catch (RuntimeException | InterruptedException | Error e) {
            tun.close().syncUninterruptibly();
            throw e;
        }
        deviceToPeer.udp = udp;
        peerToDevice.tun = tun;
        // Either side closing ends the tunnel.
        tun.closeFuture().addListener(f -> udp.close());
        udp.closeFuture().addListener(f -> tun.close());
        tun.config().setAutoRead(true);
        udp.config().setAutoRead(true);
        return new Endpoint(tun, udp, deviceToPeer, peerToDevice, options);
    }

    /**
     * The socket's receive allocator: buffers for one read (a datagram, or with GRO up to 64 KiB
     * of them) and a budget of {@link #SOCKET_READ_BUDGET} reads per read loop, as the device has.
     * The budget must be set here: an allocator given as an option keeps its own (1 message),
     * not the channel's default, and a loop of one datagram costs a trip round the event loop
     * (and a device write) per datagram. Netty counts every datagram a GRO read splits into.
     */
    static FixedRecvByteBufAllocator socketReadAllocator(TunnelOptions options) {
        if (!options.offload) {
            return (FixedRecvByteBufAllocator) new FixedRecvByteBufAllocator(options.datagramBytes())
                    .maxMessagesPerRead(SOCKET_READ_BUDGET);
        }
        int datagramsPerRead = (GRO_READ_BYTES + options.datagramBytes() - 1) / options.datagramBytes();
        return (FixedRecvByteBufAllocator) new FixedRecvByteBufAllocator(GRO_READ_BYTES)
                .maxMessagesPerRead(SOCKET_READ_BUDGET * datagramsPerRead);
    }

    /** The two channels and their counters. */
    static final class Endpoint {
        final TunChannel tun;
        final Channel udp;
        final DeviceToPeer deviceToPeer;
        final PeerToDevice peerToDevice;
        private final TunnelOptions options;

        Endpoint(TunChannel tun, Channel udp, DeviceToPeer deviceToPeer, PeerToDevice peerToDevice, TunnelOptions options) {
            this.tun = tun;
            this.udp = udp;
            this.deviceToPeer = deviceToPeer;
            this.peerToDevice = peerToDevice;
            this.options = options;
        }

        /** Done when the tunnel stops: either channel closing closes the other. */
        io.netty.util.concurrent.Future<?> closeFuture() {
            return tun.closeFuture();
        }

        void close() {
            udp.close().syncUninterruptibly();
            tun.close().syncUninterruptibly();
            // The reassembler is the loop's; after both closed, no read touches it again.
            tun.eventLoop().submit(peerToDevice::releaseChunks).syncUninterruptibly();
        }

        String describe() {
            return tun.localAddress().name() + " <-> udp " + udp.localAddress() + " -> " + options.peer
                    + (options.offload ? " offloads " + tun.config().getAppliedOffloads()
                    + (EpollDatagramChannel.isSegmentedDatagramPacketSupported() ? ", UDP GSO and GRO" : ", UDP GRO (no GSO)")
                    : " without offloads");
        }

        String totals() {
            String name = tun.localAddress().name();
            StringBuilder line = new StringBuilder()
                    .append("tunnelled ").append(name).append(" -> peer: ").append(deviceToPeer.reads).append(" reads, ")
                    .append(deviceToPeer.bytes).append(" bytes, ").append(deviceToPeer.datagrams).append(" datagrams; peer -> ")
                    .append(name).append(": ").append(peerToDevice.datagrams).append(" datagrams in ")
                    .append(peerToDevice.readLoops).append(" read loops, ")
                    .append(peerToDevice.writes).append(" writes, ").append(peerToDevice.bytes).append(" bytes; dropped: ")
                    .append(peerToDevice.foreign).append(" from elsewhere, ").append(deviceToPeer.oversize).append(" too long");
            ChunkReassembler chunks = peerToDevice.reassembler;
            if (chunks != null) {
                line.append(", ").append(chunks.malformed()).append(" malformed, ").append(chunks.duplicates())
                        .append(" duplicate, ").append(chunks.incomplete()).append(" incomplete");
            }
            TunChannelCounters device = tun.counters();
            return line.append("; paused: reading ").append(name).append(' ').append(deviceToPeer.pauses)
                    .append(" times, reading the socket ").append(peerToDevice.pauses).append(" times; ")
                    .append(name).append(" pushed back ").append(device.writePushbacks())
                    .append(" writes; errors: device ").append(deviceToPeer.errors).append(", socket ")
                    .append(peerToDevice.errors).toString();
        }
    }

    /**
     * On the device: sends every read to the peer (one flush per read batch) and stops reading
     * while the socket cannot take more. Counters are the loop's, read after it stops.
     */
    static final class DeviceToPeer extends ChannelInboundHandlerAdapter {
        private final InetSocketAddress peer;
        final ChunkSplitter splitter;
        volatile Channel udp;
        long reads;
        long bytes;
        long datagrams;
        long oversize;
        /** Times the device stopped being read because the socket could take no more. */
        long pauses;
        /** Errors on the device: writes it refused, a failed read. */
        long errors;

        DeviceToPeer(InetSocketAddress peer, ChunkSplitter splitter) {
            this.peer = peer;
            this.splitter = splitter;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf read = (ByteBuf) msg;
            reads++;
            bytes += read.readableBytes();
            if (splitter == null) {
                datagrams++;
                udp.write(new DatagramPacket(read, peer), udp.voidPromise());
                return;
            }
            int chunks = splitter.split(ctx.alloc(), read, peer, datagram -> udp.write(datagram, udp.voidPromise()));
            if (chunks == 0) {
                oversize++;
            }
            datagrams += chunks;
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            udp.flush();
            if (!udp.isWritable()) {
                pauses++;
                ctx.channel().config().setAutoRead(false);
            }
        }

        /** The device drained what the peer sent: read the socket again. */
        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable() && udp != null) {
                udp.config().setAutoRead(true);
            }
            ctx.fireChannelWritabilityChanged();
        }

        /** A write the device refused (void promise; the peer sent no IP packet, say): counted. */
        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            errors++;
        }
    }

    /** On the socket: writes what the peer sends to the device; datagrams from anyone else are dropped. */
    static final class PeerToDevice extends ChannelInboundHandlerAdapter {
        private final InetSocketAddress peer;
        final ChunkReassembler reassembler;
        volatile TunChannel tun;
        long datagrams;
        long writes;
        long bytes;
        long foreign;
        /** Read loops on the socket (each ends with one flush to the device). */
        long readLoops;
        /** Times the socket stopped being read because the device could take no more. */
        long pauses;
        /** Errors on the socket: sends it refused. */
        long errors;

        PeerToDevice(InetSocketAddress peer, ChunkReassembler reassembler) {
            this.peer = peer;
            this.reassembler = reassembler;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            DatagramPacket datagram = (DatagramPacket) msg;
            if (!peer.equals(datagram.sender())) {
                foreign++;
                datagram.release();
                return;
            }
            datagrams++;
            ByteBuf packet = reassembler == null ? datagram.content() : reassembler.add(ctx.alloc(), datagram.content());
            if (packet != null) {
                writes++;
                bytes += packet.readableBytes();
                tun.write(packet, tun.voidPromise());
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            readLoops++;
            tun.flush();
            if (!tun.isWritable()) {
                pauses++;
                ctx.channel().config().setAutoRead(false);
            }
        }

        /** The socket drained what the device read: read the device again. */
        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable() && tun != null) {
                tun.config().setAutoRead(true);
            }
            ctx.fireChannelWritabilityChanged();
        }

        /** A send the kernel refused (void promise): counted, the tunnel goes on. */
        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            errors++;
        }

        void releaseChunks() {
            if (reassembler != null) {
                reassembler.release();
            }
        }
    }
}
