// spinmesh reference benchmark: PROTOCOLS.md §7 `manet-unicast` in ns-3 (3.37) with AODV.
//
// 50 nodes placed uniformly in 1500 m x 300 m, random waypoint (speed U[1, maxSpeed] m/s, pause 0),
// 802.11b ad-hoc at a constant 2 Mbit/s with a 250 m unit-disk range, AODV with ns-3 defaults,
// 10 CBR UDP flows between distinct random pairs (start U[10, 20] s, stop 199 s, 4 packets/s of
// 512 bytes of UDP payload), 200 s simulated. Prints one JSON object on stdout.
//
// Written for spinmesh's bench/ns3 (see README.md there); build with build.sh.
//
// What is counted (all per run, all nodes):
//   sent / received      CBR packets handed to UDP by the senders / unique (flow, seq) arrivals at
//                        the destination sockets.
//   aodv.*               AODV control packets leaving the IPv4 layer on the wifi interface (Ipv4L3
//                        "Tx" trace, UDP destination port 654): one per transmission per hop, i.e.
//                        every originated or re-broadcast RREQ, every RREP per hop, every RERR,
//                        RREP-ACK and HELLO (a RREP whose destination equals its originator). MAC
//                        retransmissions of the same frame are NOT in this number (see phy.*).
//   mac.*                frames handed to the wifi MAC (WifiMac "MacTx"): ARP is counted here.
//   phy.*                frames put on the air (WifiPhy "PhyTxBegin"), MAC retries and ACKs
//                        included; only with --phyStats=1 (the default).
//   wallSeconds          wall-clock time of Simulator::Run() only (set-up excluded).
//   cpuSeconds           CPU time of this process over the same span (steadier on a busy machine).
//   maxRssKB             getrusage(RUSAGE_SELF).ru_maxrss at the end of the run.

#include "ns3/aodv-helper.h"
#include "ns3/aodv-packet.h"
#include "ns3/arp-header.h"
#include "ns3/command-line.h"
#include "ns3/config.h"
#include "ns3/constant-position-mobility-model.h"
#include "ns3/double.h"
#include "ns3/inet-socket-address.h"
#include "ns3/internet-stack-helper.h"
#include "ns3/ipv4-address-helper.h"
#include "ns3/ipv4-header.h"
#include "ns3/ipv4-l3-protocol.h"
#include "ns3/llc-snap-header.h"
#include "ns3/mobility-helper.h"
#include "ns3/node-container.h"
#include "ns3/packet.h"
#include "ns3/pointer.h"
#include "ns3/position-allocator.h"
#include "ns3/random-variable-stream.h"
#include "ns3/rng-seed-manager.h"
#include "ns3/simulator.h"
#include "ns3/socket.h"
#include "ns3/string.h"
#include "ns3/udp-header.h"
#include "ns3/udp-socket-factory.h"
#include "ns3/uinteger.h"
#include "ns3/wifi-helper.h"
#include "ns3/wifi-mac-header.h"
#include "ns3/wifi-mac.h"
#include "ns3/wifi-mpdu.h"
#include "ns3/wifi-net-device.h"
#include "ns3/yans-wifi-helper.h"

#include <sys/resource.h>
#include <time.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iomanip>
#include <iostream>
#include <set>
#include <sstream>
#include <vector>

using namespace ns3;

namespace
{

const uint16_t kAodvPort = 654;
const uint16_t kCbrPort = 9;
const uint32_t kPayload = 512; // UDP payload bytes per CBR packet

// ---------------------------------------------------------------------------------------------
// Counters

struct Counters
{
    // data
    uint64_t sent = 0;
    uint64_t received = 0; // unique (flow, seq)
    uint64_t duplicates = 0;
    double delaySum = 0;  // seconds, over unique deliveries
    uint64_t dataIpTx = 0; // CBR packets leaving IPv4 on wifi (origin + every forward)
    // AODV at the IPv4 layer (per hop, no MAC retries)
    uint64_t rreq = 0, rrep = 0, hello = 0, rerr = 0, rrepAck = 0, aodvOther = 0;
    // frames handed to the MAC
    uint64_t macAodv = 0, macArp = 0, macData = 0, macIcmp = 0, macOther = 0;
    // frames on the air
    uint64_t phyAodv = 0, phyArp = 0, phyData = 0, phyIcmp = 0, phyAck = 0, phyOther = 0, phyRetry = 0;
    uint64_t macDropped = 0; // MPDUs the MAC gave up on (retry limit, queue)

    uint64_t Aodv() const
    {
        return rreq + rrep + hello + rerr + rrepAck + aodvOther;
    }
};

Counters g;
std::vector<std::set<uint32_t>> g_seen; // per flow: sequence numbers delivered

// Classifies an IPv4 packet (header included). Returns 'a' for AODV, 'd' for CBR data, 'i' for
// ICMP (ns-3 sends e.g. Time Exceeded when a forwarded packet's TTL runs out), 'o' other.
// If it is AODV and `count` is set, bumps the per-type counters.
char
ClassifyIpv4(Ptr<Packet> p, bool count)
{
    Ipv4Header ip;
    if (p->RemoveHeader(ip) == 0)
    {
        return 'o';
    }
    if (ip.GetProtocol() == 1)
    {
        return 'i';
    }
    if (ip.GetProtocol() != 17)
    {
        return 'o';
    }
    UdpHeader udp;
    p->RemoveHeader(udp);
    if (udp.GetDestinationPort() == kCbrPort)
    {
        return 'd';
    }
    if (udp.GetDestinationPort() != kAodvPort)
    {
        return 'o';
    }
    if (!count)
    {
        return 'a';
    }
    aodv::TypeHeader type;
    p->RemoveHeader(type);
    if (!type.IsValid())
    {
        g.aodvOther++;
        return 'a';
    }
    switch (type.Get())
    {
    case aodv::AODVTYPE_RREQ:
        g.rreq++;
        break;
    case aodv::AODVTYPE_RREP: {
        aodv::RrepHeader rrep;
        p->RemoveHeader(rrep);
        if (rrep.GetDst() == rrep.GetOrigin())
        {
            g.hello++;
        }
        else
        {
            g.rrep++;
        }
        break;
    }
    case aodv::AODVTYPE_RERR:
        g.rerr++;
        break;
    case aodv::AODVTYPE_RREP_ACK:
        g.rrepAck++;
        break;
    default:
        g.aodvOther++;
    }
    return 'a';
}

// Ipv4L3Protocol "Tx": every packet IPv4 hands to an interface (originated or forwarded).
void
OnIpTx(Ptr<const Packet> packet, Ptr<Ipv4> ipv4, uint32_t interface)
{
    if (ipv4->GetNetDevice(interface)->GetObject<WifiNetDevice>() == nullptr)
    {
        return; // loopback: AODV parks packets there while it searches for a route
    }
    char kind = ClassifyIpv4(packet->Copy(), true);
    if (kind == 'd')
    {
        g.dataIpTx++;
    }
}

// WifiMac "MacTx": a frame body (LLC/SNAP + payload) handed to the MAC for transmission.
void
OnMacTx(Ptr<const Packet> packet)
{
    Ptr<Packet> p = packet->Copy();
    LlcSnapHeader llc;
    p->RemoveHeader(llc);
    if (llc.GetType() == 0x0806)
    {
        g.macArp++;
        return;
    }
    if (llc.GetType() != 0x0800)
    {
        g.macOther++;
        return;
    }
    char kind = ClassifyIpv4(p, false);
    if (kind == 'a')
    {
        g.macAodv++;
    }
    else if (kind == 'd')
    {
        g.macData++;
    }
    else if (kind == 'i')
    {
        g.macIcmp++;
    }
    else
    {
        g.macOther++;
    }
}

// WifiPhy "PhyTxBegin": an MPDU (MAC header + body + FCS) starts on the air.
void
OnPhyTx(Ptr<const Packet> packet, double /* txPowerW */)
{
    Ptr<Packet> p = packet->Copy();
    WifiMacHeader mac;
    p->RemoveHeader(mac);
    if (mac.IsRetry())
    {
        g.phyRetry++;
    }
    if (mac.IsAck())
    {
        g.phyAck++;
        return;
    }
    if (!mac.IsData())
    {
        g.phyOther++;
        return;
    }
    LlcSnapHeader llc;
    p->RemoveHeader(llc);
    if (llc.GetType() == 0x0806)
    {
        g.phyArp++;
        return;
    }
    char kind = llc.GetType() == 0x0800 ? ClassifyIpv4(p, false) : 'o';
    if (kind == 'a')
    {
        g.phyAodv++;
    }
    else if (kind == 'd')
    {
        g.phyData++;
    }
    else if (kind == 'i')
    {
        g.phyIcmp++;
    }
    else
    {
        g.phyOther++;
    }
}

void
OnMacDrop(WifiMacDropReason /* reason */, Ptr<const WifiMpdu> /* mpdu */)
{
    g.macDropped++;
}

// ---------------------------------------------------------------------------------------------
// CBR traffic: a plain UDP socket per flow at the source, one sink socket per destination node.
// Payload bytes 0-3 flow id, 4-7 sequence number, 8-15 send time (ns), rest zero.

struct Flow
{
    uint32_t id;
    uint32_t src, dst;
    double start, stop;
    Ptr<Socket> socket;
    Ipv4Address dstAddr;
    uint32_t seq = 0;
};

std::vector<Flow> g_flows;
const double kInterval = 0.25; // 4 packets/s

void
SendCbr(uint32_t i)
{
    Flow& f = g_flows[i];
    if (Simulator::Now().GetSeconds() >= f.stop)
    {
        return;
    }
    uint8_t buf[kPayload];
    std::memset(buf, 0, sizeof(buf));
    int64_t now = Simulator::Now().GetNanoSeconds();
    std::memcpy(buf, &f.id, 4);
    std::memcpy(buf + 4, &f.seq, 4);
    std::memcpy(buf + 8, &now, 8);
    Ptr<Packet> p = Create<Packet>(buf, kPayload);
    if (f.socket->SendTo(p, 0, InetSocketAddress(f.dstAddr, kCbrPort)) >= 0)
    {
        g.sent++;
    }
    f.seq++;
    Simulator::Schedule(Seconds(kInterval), &SendCbr, i);
}

void
OnSinkRecv(Ptr<Socket> socket)
{
    Ptr<Packet> p;
    while ((p = socket->Recv()))
    {
        uint8_t buf[16];
        if (p->CopyData(buf, 16) < 16)
        {
            continue;
        }
        uint32_t flow, seq;
        int64_t sentAt;
        std::memcpy(&flow, buf, 4);
        std::memcpy(&seq, buf + 4, 4);
        std::memcpy(&sentAt, buf + 8, 8);
        if (flow >= g_seen.size())
        {
            continue;
        }
        if (g_seen[flow].insert(seq).second)
        {
            g.received++;
            g.delaySum += (Simulator::Now().GetNanoSeconds() - sentAt) * 1e-9;
        }
        else
        {
            g.duplicates++;
        }
    }
}

} // namespace

int
main(int argc, char* argv[])
{
    uint32_t seed = 1;
    double maxSpeed = 20;
    uint32_t nodes = 50;
    uint32_t flows = 10;
    double duration = 200;
    double range = 250;
    bool phyStats = true;
    std::string radio = "unitdisk";
    double csRange = 550;

    CommandLine cmd(__FILE__);
    cmd.AddValue("seed", "run number (RngSeedManager::SetRun); the seed itself stays 1", seed);
    cmd.AddValue("maxSpeed", "random waypoint maximum speed, m/s (minimum is 1)", maxSpeed);
    cmd.AddValue("nodes", "number of nodes", nodes);
    cmd.AddValue("flows", "number of CBR flows", flows);
    cmd.AddValue("duration", "simulated seconds", duration);
    cmd.AddValue("range", "unit-disk radio range, m", range);
    cmd.AddValue("radio", "unitdisk (RangePropagationLossModel) or cs (see csRange)", radio);
    cmd.AddValue("csRange", "radio=cs: carrier-sense and interference range, m", csRange);
    cmd.AddValue("phyStats", "count frames on the air (PhyTxBegin trace)", phyStats);
    cmd.Parse(argc, argv);

    RngSeedManager::SetSeed(1);
    RngSeedManager::SetRun(seed);

    // Broadcast frames (RREQ, HELLO, RERR to many, ARP requests) at 2 Mbit/s too; ns-3 would
    // otherwise send them at the lowest basic rate (1 Mbit/s).
    Config::SetDefault("ns3::WifiRemoteStationManager::NonUnicastMode",
                       StringValue("DsssRate2Mbps"));

    NodeContainer all;
    all.Create(nodes);

    // --- radio: 802.11b ad hoc, 2 Mbit/s, unit disk of `range` metres
    YansWifiChannelHelper channel;
    channel.SetPropagationDelay("ns3::ConstantSpeedPropagationDelayModel");
    YansWifiPhyHelper phy;
    if (radio == "unitdisk")
    {
        // Every node within `range` receives at the transmit power, nobody beyond hears anything
        // (no interference, no carrier sense beyond `range`).
        channel.AddPropagationLoss("ns3::RangePropagationLossModel",
                                   "MaxRange",
                                   DoubleValue(range));
    }
    else if (radio == "cs")
    {
        // spinmesh's DEFAULT_SIM_RADIO geometry (and ns-2's): frames decodable up to `range`,
        // sensed by carrier sense and interfering up to `csRange`. Deterministic log-distance loss
        // (exponent 3, 40.05 dB at 1 m); the transmit power is high enough that thermal noise does
        // not matter at `range` (SNR ~ 22 dB), so only the thresholds and interference count.
        const double txDbm = 40;
        auto rxDbm = [&](double d) { return txDbm - 40.05 - 30 * std::log10(d); };
        channel.AddPropagationLoss("ns3::LogDistancePropagationLossModel",
                                   "Exponent",
                                   DoubleValue(3),
                                   "ReferenceDistance",
                                   DoubleValue(1),
                                   "ReferenceLoss",
                                   DoubleValue(40.05));
        phy.Set("TxPowerStart", DoubleValue(txDbm));
        phy.Set("TxPowerEnd", DoubleValue(txDbm));
        phy.Set("RxSensitivity", DoubleValue(rxDbm(range) - 1e-6));
        phy.Set("CcaSensitivity", DoubleValue(rxDbm(range) - 1e-6));
        phy.Set("CcaEdThreshold", DoubleValue(rxDbm(csRange)));
    }
    else
    {
        std::cerr << "--radio must be unitdisk or cs" << std::endl;
        return 2;
    }
    phy.SetChannel(channel.Create());

    WifiHelper wifi;
    wifi.SetStandard(WIFI_STANDARD_80211b);
    wifi.SetRemoteStationManager("ns3::ConstantRateWifiManager",
                                 "DataMode",
                                 StringValue("DsssRate2Mbps"),
                                 "ControlMode",
                                 StringValue("DsssRate2Mbps"));
    WifiMacHelper mac;
    mac.SetType("ns3::AdhocWifiMac");
    NetDeviceContainer devices = wifi.Install(phy, mac, all);

    // --- mobility: uniform placement, random waypoint over the same field
    ObjectFactory posFactory;
    posFactory.SetTypeId("ns3::RandomRectanglePositionAllocator");
    posFactory.Set("X", StringValue("ns3::UniformRandomVariable[Min=0.0|Max=1500.0]"));
    posFactory.Set("Y", StringValue("ns3::UniformRandomVariable[Min=0.0|Max=300.0]"));
    Ptr<PositionAllocator> field = posFactory.Create()->GetObject<PositionAllocator>();

    std::ostringstream speed;
    speed << "ns3::UniformRandomVariable[Min=1.0|Max=" << maxSpeed << "]";
    MobilityHelper mobility;
    mobility.SetPositionAllocator(field);
    mobility.SetMobilityModel("ns3::RandomWaypointMobilityModel",
                              "Speed",
                              StringValue(speed.str()),
                              "Pause",
                              StringValue("ns3::ConstantRandomVariable[Constant=0.0]"),
                              "PositionAllocator",
                              PointerValue(field));
    mobility.Install(all);

    // --- IP + AODV (defaults)
    AodvHelper aodv;
    InternetStackHelper internet;
    internet.SetRoutingHelper(aodv);
    internet.Install(all);
    Ipv4AddressHelper ipv4;
    ipv4.SetBase("10.0.0.0", "255.255.0.0");
    Ipv4InterfaceContainer ifaces = ipv4.Assign(devices);

    // Fix the random streams of the models so that a run number fully determines a run.
    int64_t stream = 1000;
    stream += field->AssignStreams(stream);
    stream += mobility.AssignStreams(all, stream);
    stream += wifi.AssignStreams(devices, stream);
    stream += aodv.AssignStreams(all, stream);

    // --- traffic: `flows` distinct ordered pairs (src != dst)
    Ptr<UniformRandomVariable> pick = CreateObject<UniformRandomVariable>();
    pick->SetStream(stream++);
    Ptr<UniformRandomVariable> startAt = CreateObject<UniformRandomVariable>();
    startAt->SetStream(stream++);
    std::set<std::pair<uint32_t, uint32_t>> pairs;
    std::vector<Ptr<Socket>> sinks(nodes);
    g_seen.assign(flows, {});
    while (g_flows.size() < flows)
    {
        uint32_t s = pick->GetInteger(0, nodes - 1);
        uint32_t d = pick->GetInteger(0, nodes - 1);
        if (s == d || !pairs.insert({s, d}).second)
        {
            continue;
        }
        Flow f;
        f.id = g_flows.size();
        f.src = s;
        f.dst = d;
        f.start = startAt->GetValue(10.0, 20.0);
        f.stop = duration - 1; // 199 s
        f.dstAddr = ifaces.GetAddress(d);
        f.socket = Socket::CreateSocket(all.Get(s), UdpSocketFactory::GetTypeId());
        f.socket->Bind();
        if (!sinks[d])
        {
            sinks[d] = Socket::CreateSocket(all.Get(d), UdpSocketFactory::GetTypeId());
            sinks[d]->Bind(InetSocketAddress(Ipv4Address::GetAny(), kCbrPort));
            sinks[d]->SetRecvCallback(MakeCallback(&OnSinkRecv));
        }
        g_flows.push_back(f);
        Simulator::Schedule(Seconds(f.start), &SendCbr, f.id);
    }

    // --- counters
    Config::ConnectWithoutContext("/NodeList/*/$ns3::Ipv4L3Protocol/Tx", MakeCallback(&OnIpTx));
    Config::ConnectWithoutContext("/NodeList/*/DeviceList/*/$ns3::WifiNetDevice/Mac/MacTx",
                                  MakeCallback(&OnMacTx));
    Config::ConnectWithoutContext("/NodeList/*/DeviceList/*/$ns3::WifiNetDevice/Mac/DroppedMpdu",
                                  MakeCallback(&OnMacDrop));
    if (phyStats)
    {
        Config::ConnectWithoutContext(
            "/NodeList/*/DeviceList/*/$ns3::WifiNetDevice/Phy/PhyTxBegin",
            MakeCallback(&OnPhyTx));
    }

    Simulator::Stop(Seconds(duration));
    // Wall clock and this process's CPU time around Simulator::Run() only. On a shared machine the
    // CPU time is the steadier speed figure; wall time also counts time spent waiting for a core.
    timespec c0, c1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    auto t0 = std::chrono::steady_clock::now();
    Simulator::Run();
    auto t1 = std::chrono::steady_clock::now();
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    double wall = std::chrono::duration<double>(t1 - t0).count();
    double cpu = (c1.tv_sec - c0.tv_sec) + (c1.tv_nsec - c0.tv_nsec) * 1e-9;
    uint64_t events = Simulator::GetEventCount();
    Simulator::Destroy();

    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);

    double pdr = g.sent ? double(g.received) / g.sent : 0;
    double ctrlPerDelivered = g.received ? double(g.Aodv()) / g.received : 0;
    double ctrlNoHelloPerDelivered = g.received ? double(g.Aodv() - g.hello) / g.received : 0;

    std::cout << std::fixed << std::setprecision(4);
    std::cout << "{\"scenario\":\"manet-unicast\",\"ns3\":\"3.37\",\"radio\":\"" << radio << "\",\"seed\":" << seed
              << ",\"maxSpeed\":" << maxSpeed << ",\"nodes\":" << nodes << ",\"flows\":" << flows
              << ",\"duration\":" << duration << ",\"sent\":" << g.sent
              << ",\"received\":" << g.received << ",\"duplicates\":" << g.duplicates
              << ",\"pdr\":" << pdr << ",\"meanDelay\":" << (g.received ? g.delaySum / g.received : 0)
              << ",\"dataIpTx\":" << g.dataIpTx << ",\"aodv\":{\"total\":" << g.Aodv()
              << ",\"rreq\":" << g.rreq << ",\"rrep\":" << g.rrep << ",\"hello\":" << g.hello
              << ",\"rerr\":" << g.rerr << ",\"rrepAck\":" << g.rrepAck
              << ",\"other\":" << g.aodvOther << "},\"ctrlPerDelivered\":" << ctrlPerDelivered
              << ",\"ctrlNoHelloPerDelivered\":" << ctrlNoHelloPerDelivered
              << ",\"mac\":{\"aodv\":" << g.macAodv << ",\"arp\":" << g.macArp
              << ",\"data\":" << g.macData << ",\"icmp\":" << g.macIcmp
              << ",\"other\":" << g.macOther
              << ",\"droppedMpdu\":" << g.macDropped << "}";
    if (phyStats)
    {
        std::cout << ",\"phy\":{\"aodv\":" << g.phyAodv << ",\"arp\":" << g.phyArp
                  << ",\"data\":" << g.phyData << ",\"icmp\":" << g.phyIcmp
                  << ",\"ack\":" << g.phyAck
                  << ",\"other\":" << g.phyOther << ",\"retries\":" << g.phyRetry << "}";
    }
    std::cout << ",\"events\":" << events << ",\"wallSeconds\":" << wall
              << ",\"cpuSeconds\":" << cpu
              << ",\"maxRssKB\":" << ru.ru_maxrss << "}" << std::endl;
    return 0;
}
