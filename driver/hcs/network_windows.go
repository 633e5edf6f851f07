//go:build windows

package hcs

import (
	"fmt"

	"github.com/Microsoft/hcsshim"
	"github.com/Microsoft/hcsshim/hcn"
)

// attachNetwork makes the endpoints plan asks for. It returns the endpoint
// IDs for the container document, the compute system whose namespace the
// container joins ("" for none, see namespaceHolder) and the ID of the
// endpoint it created (named after the compute system, so Remove finds it
// even without a record), "" when it created none.
func attachNetwork(systemID string, plan endpointPlan) (endpoints []string, sharedWith, created string, err error) {
	switch {
	case plan.Namespace != "":
		ids, err := hcn.GetNamespaceEndpointIds(plan.Namespace)
		if err != nil {
			return nil, "", "", fmt.Errorf("network namespace %s: %w", plan.Namespace, err)
		}
		eps := make([]endpointAttachment, 0, len(ids))
		for _, id := range ids {
			ep, err := hcsshim.GetHNSEndpointByID(id)
			if err != nil {
				return nil, "", "", fmt.Errorf("network namespace %s: endpoint %s: %w", plan.Namespace, id, err)
			}
			eps = append(eps, endpointAttachment{ID: id, SharedContainers: ep.SharedContainers})
		}
		return ids, namespaceHolder(eps, systemID), "", nil
	case plan.NetworkType == "":
		return nil, "", "", nil
	}
	list, err := hcsshim.HNSListNetworkRequest("GET", "", "")
	if err != nil {
		return nil, "", "", fmt.Errorf("list HNS networks: %w", err)
	}
	nets := make([]hnsNetwork, 0, len(list))
	for _, n := range list {
		nets = append(nets, hnsNetwork{ID: n.Id, Name: n.Name, Type: n.Type})
	}
	net, err := pickNetwork(nets, plan.NetworkType)
	if err != nil {
		return nil, "", "", err
	}
	ep, err := toHCS[hcsshim.HNSEndpoint](plan.endpointRequest(systemID, net.ID))
	if err != nil {
		return nil, "", "", fmt.Errorf("endpoint document: %w", err)
	}
	if ep, err = ep.Create(); err != nil {
		return nil, "", "", fmt.Errorf("create endpoint on network %s: %w", net.Name, err)
	}
	return []string{ep.Id}, "", ep.Id, nil
}

// deleteEndpoint deletes the endpoint the driver made for a compute system:
// by ID when recorded, else by the system's name. None is not an error.
// It looks the endpoint up through hcn (HNS v2), whose errors
// hcn.IsNotFoundError classifies, on hosts that have it, and through the
// legacy HNS v1 API on those that do not (Windows Server 2016).
func deleteEndpoint(systemID, endpointID string) error {
	key, byID := systemID, false
	if endpointID != "" {
		key, byID = endpointID, true
	}
	var (
		id  string
		del func() error
		err error
	)
	if hcn.V2ApiSupported() == nil {
		get := hcn.GetEndpointByName
		if byID {
			get = hcn.GetEndpointByID
		}
		var ep *hcn.HostComputeEndpoint
		if ep, err = get(key); err == nil {
			id, del = ep.Id, ep.Delete
		}
	} else {
		get := hcsshim.GetHNSEndpointByName
		if byID {
			get = hcsshim.GetHNSEndpointByID
		}
		var ep *hcsshim.HNSEndpoint
		if ep, err = get(key); err == nil {
			id, del = ep.Id, func() error { _, err := ep.Delete(); return err }
		}
	}
	if err != nil {
		if endpointGone(err) {
			return nil
		}
		return fmt.Errorf("find endpoint of %s: %w", systemID, err)
	}
	if err := del(); err != nil && !endpointGone(err) {
		return fmt.Errorf("delete endpoint %s: %w", id, err)
	}
	return nil
}

// endpointGone reports whether an HNS error says the endpoint does not
// exist: hcn's typed errors and codes, hcsshim's v1 EndpointNotFoundError
// (GetHNSEndpointByName), or HNS v1's text (isHNSNotFoundText).
func endpointGone(err error) bool {
	return hcn.IsNotFoundError(err) || hcsshim.IsNotExist(err) || isHNSNotFoundText(err.Error())
}
